package main

import "syscall"

// childProcAttr makes a node die with the process that started it (a test
// binary killed by its timeout, a bench interrupted), so no raftd outlives
// its cluster.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
