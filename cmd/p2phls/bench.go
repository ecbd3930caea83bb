package main

import (
	"context"
	"fmt"
	"io"
)

func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bench: which? tracker")
	}
	switch args[0] {
	case "tracker":
		return benchTracker(ctx, args[1:], stdout)
	}
	return fmt.Errorf("bench: unknown benchmark %q", args[0])
}
func benchTracker(ctx context.Context, args []string, stdout io.Writer) error { return nil }
