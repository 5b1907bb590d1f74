package engine_test

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill a child engine if the test process
// dies first, so an interrupted test leaves no worker running.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
