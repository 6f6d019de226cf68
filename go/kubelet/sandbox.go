package main

// A test kubelet must leave the machine as it found it, but a kubelet started as root changes the
// host in two ways that outlive it: its container manager writes six kernel tunables
// (pkg/kubelet/cm setupKernelTunables: vm.overcommit_memory=1, kernel.panic_on_oops=1, …), and
// setupDataDirs bind-mounts its root dir onto itself to make it rshared, a mount that stays after
// the process dies and makes the dir impossible to remove. So the kubelet runs in a mount
// namespace of its own, made private (nothing propagates back), with those tunables shadowed by
// files under the sandbox dir: its writes land there, and its mounts vanish with it.

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
)

const sandboxedEnv = "STAMPEDE_KUBELET_SANDBOXED"

// The tunables the kubelet sets, with the values it wants (so it finds them set and writes nothing).
var kernelTunables = map[string]string{
	"vm/overcommit_memory":      "1",
	"vm/panic_on_oom":           "0",
	"kernel/panic":              "10",
	"kernel/panic_on_oops":      "1",
	"kernel/keys/root_maxkeys":  "1000000",
	"kernel/keys/root_maxbytes": "25000000",
}

// enterSandbox returns inside the sandbox. Outside it, it re-executes this binary in a new private
// mount namespace, waits for it and exits with its status: the re-executed child is the kubelet.
func enterSandbox(dir string) {
	if os.Getenv(sandboxedEnv) == "1" {
		if err := shadowKernelTunables(dir); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
			os.Exit(1)
		}
		return
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), sandboxedEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Go remounts / recursively private in the child when CLONE_NEWNS is unshared.
		Unshareflags: syscall.CLONE_NEWNS,
		// If this wrapper dies alone (SIGKILL of its pid only), the kubelet follows.
		Pdeathsig: syscall.SIGKILL,
	}
	// The harness signals the whole process group, so the kubelet gets SIGTERM itself; the wrapper
	// stays until it has exited, so the group leader's exit still means "the kubelet is gone".
	// Caught (not ignored) here, because an ignored disposition would survive the exec.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if err := cmd.Run(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
				os.Exit(128 + int(status.Signal()))
			}
			os.Exit(exit.ExitCode())
		}
		fmt.Fprintf(os.Stderr, "sandbox: start the kubelet: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func shadowKernelTunables(dir string) error {
	for name, value := range kernelTunables {
		shadow := filepath.Join(dir, "sysctl", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(shadow), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(shadow, []byte(value+"\n"), 0o644); err != nil {
			return err
		}
		target := filepath.Join("/proc/sys", filepath.FromSlash(name))
		if err := syscall.Mount(shadow, target, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("shadow %s: %w", target, err)
		}
	}
	return nil
}
