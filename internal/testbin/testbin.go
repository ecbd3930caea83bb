// Package testbin finds the external programs tests run for real (ffmpeg,
// redis-server, chromium). A missing one skips the test locally and fails it
// under CI=true, where .ci/run must have installed it.
package testbin

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns the path of the program or ends the test.
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not installed (CI=true: tests that need it never skip): %v", name, err)
	}
	t.Skipf("%s not installed", name)
	return ""
}
