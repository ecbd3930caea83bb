package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

const netnsEnv = "P2PHLS_TEST_NETNS"

// InNetns runs the calling test again, alone, in a network namespace of its
// own that has only loopback (`unshare -rn`), so a browser under test can
// reach nothing but the servers the test starts. It returns true in that
// child; in the parent it waits for the child, reports its output and
// outcome, and returns false (the caller returns at once).
func InNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsEnv) == "1" {
		if err := loopbackUp(); err != nil {
			t.Fatalf("netns: %v", err)
		}
		return true
	}
	unshare := Require(t, "unshare")
	if out, err := exec.Command(unshare, "-rn", "true").CombinedOutput(); err != nil {
		// a container that forbids namespaces: the servers still bind 127.0.0.1 only
		t.Logf("no network namespace here (%v: %s): running on the host's loopback", err, out)
		return true
	}
	args := []string{"-rn", os.Args[0], "-test.run", "^" + t.Name() + "$", "-test.v", "-test.count=1"}
	cmd := exec.Command(unshare, args...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in a network namespace with only loopback:\n%s", out)
	if err != nil {
		t.Fatalf("test in the network namespace: %v", err)
	}
	return false
}

// loopbackUp sets lo up: a new network namespace starts with it down.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	return nil
}
