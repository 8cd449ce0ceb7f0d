package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// actor is one long-running part of a process. Like Prometheus' run
// groups: when any actor returns, every other actor's context is cancelled
// and the group waits for all of them, so one failed stage never leaves a
// half-working process behind.
type actor struct {
	name string
	run  func(ctx context.Context) error
}

func runGroup(ctx context.Context, log *slog.Logger, actors ...actor) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, a := range actors {
		wg.Add(1)
		go func(a actor) {
			defer wg.Done()
			err := a.run(ctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Error("stage stopped with error", slog.String("stage", a.name), slog.Any("err", err))
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("%s: %w", a.name, err)
				}
				mu.Unlock()
			} else if ctx.Err() == nil {
				log.Warn("stage stopped unexpectedly; stopping the others", slog.String("stage", a.name))
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("%s stopped unexpectedly", a.name)
				}
				mu.Unlock()
			}
			cancel()
		}(a)
	}
	wg.Wait()
	return first
}
