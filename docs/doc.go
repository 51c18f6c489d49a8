// Package docs holds Faultline's contracts in prose (the Markdown files
// beside this one) and the JSON Schema of the history format; its tests
// check that the schema accepts the histories the project writes and reads,
// and refuses what history.Reader refuses. It holds no code.
package docs
