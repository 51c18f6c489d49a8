package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Log formats of --log-format, a flag every command takes.
const (
	logText = "text"
	logJSON = "json"
)

// logFormatKey carries --log-format from dispatch to the commands.
type logFormatKey struct{}

// newLogger returns a logger writing to w in the format --log-format chose:
// slog's text lines, or one JSON object per line for log collectors.
func newLogger(ctx context.Context, w io.Writer, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if ctx.Value(logFormatKey{}) == logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// takeGlobalFlags removes --log-format (anywhere on the command line, as
// "--log-format json" or "--log-format=json") from args and records it in
// the context the commands get.
func takeGlobalFlags(ctx context.Context, args []string) (context.Context, []string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "log-format" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return ctx, nil, fmt.Errorf("--log-format needs a value: text or json")
			}
			i++
			value = args[i]
		}
		switch value {
		case logText, logJSON:
			ctx = context.WithValue(ctx, logFormatKey{}, value)
		default:
			return ctx, nil, fmt.Errorf("--log-format must be text or json, got %q", value)
		}
	}
	return ctx, rest, nil
}
