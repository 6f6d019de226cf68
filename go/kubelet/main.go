// Command kubelet is a real kubelet (k8s.io/kubernetes v1.37.2, cmd/kubelet/app) with the fake
// container runtime of k8s.io/cri-client/pkg/fake in the same process, for stampede's end-to-end
// tests: it registers its Node, files its serving CSR, stores and serves the certificate and
// rotates it, exactly as a production kubelet does, but runs no containers.
//
//	kubelet --fake-cri-endpoint=unix:///path/cri.sock [--sandbox-dir=DIR] [kubelet flags...]
//	kubelet version
//
// Point the kubelet's containerRuntimeEndpoint and imageServiceEndpoint at the same socket.
// --sandbox-dir runs it in a private mount namespace (see sandbox.go): give it whenever the
// kubelet runs as root on a machine it must not change.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/component-base/version"
	"k8s.io/cri-client/pkg/fake"
	"k8s.io/kubernetes/cmd/kubelet/app"
)

const (
	endpointFlag = "--fake-cri-endpoint="
	sandboxFlag  = "--sandbox-dir="
)

func main() {
	if len(os.Args) == 2 && (os.Args[1] == "version" || os.Args[1] == "--version") {
		fmt.Println(version.Get().GitVersion)
		return
	}
	// Our flags are taken out before the kubelet parses the rest: its flag set rejects unknown ones.
	var endpoint, sandbox string
	rest := make([]string, 0, len(os.Args)-1)
	for _, arg := range os.Args[1:] {
		switch {
		case strings.HasPrefix(arg, endpointFlag):
			endpoint = strings.TrimPrefix(arg, endpointFlag)
		case strings.HasPrefix(arg, sandboxFlag):
			sandbox = strings.TrimPrefix(arg, sandboxFlag)
		default:
			rest = append(rest, arg)
		}
	}
	if endpoint == "" {
		fmt.Fprintf(os.Stderr, "usage: %s %sunix:///path/cri.sock [%sDIR] [kubelet flags...]\n", os.Args[0], endpointFlag, sandboxFlag)
		os.Exit(2)
	}
	if sandbox != "" {
		enterSandbox(sandbox) // returns in the re-executed child only
	}
	// The fake runtime answers every CRI call from memory (no pods, no images); it must listen
	// before the kubelet dials it, which it does during start-up.
	runtime := fake.NewFakeRemoteRuntime()
	if err := runtime.Start(endpoint); err != nil {
		fmt.Fprintf(os.Stderr, "fake CRI on %s: %v\n", endpoint, err)
		os.Exit(1)
	}
	// No Stop(): os.Exit below skips deferred calls; the socket goes with the process and its dir.

	cmd := app.NewKubeletCommand(context.Background())
	cmd.SetArgs(rest)
	os.Exit(cli.Run(cmd))
}
