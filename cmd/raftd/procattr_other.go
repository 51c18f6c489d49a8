//go:build !linux

package main

import "syscall"

// childProcAttr: outside Linux there is no parent-death signal; nodes are
// killed by procCluster.close.
func childProcAttr() *syscall.SysProcAttr { return nil }
