package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// inflight runs one background job at a time and keeps its result until
// someone waits for it. Callers serialize their calls (the runner holds its
// mutex), so it needs no lock of its own.
type inflight struct {
	done     chan error // nil when nothing is in flight
	deadline time.Time  // wait gives up on the job then
}

// start runs job in the background; wait gives up on it at deadline. The
// caller must have waited for the previous job.
func (f *inflight) start(deadline time.Time, job func() error) {
	done := make(chan error, 1)
	f.done, f.deadline = done, deadline
	go func() { done <- job() }()
}

// wait blocks until the job in flight, if any, ends and returns its error,
// or until ctx ends; the job then stays in flight for a later wait.
func (f *inflight) wait(ctx context.Context) error {
	if f.done == nil {
		return nil
	}
	timer := time.NewTimer(time.Until(f.deadline))
	defer timer.Stop()
	select {
	case err := <-f.done:
		f.done = nil
		return err
	case <-timer.C:
		return timedOut{errors.New("its calls did not return by their deadline")}
	case <-ctx.Done():
		return fmt.Errorf("checkpoint still being written: %w", ctx.Err())
	}
}
