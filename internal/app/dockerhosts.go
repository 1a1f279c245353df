package app

import (
	"context"
	"sync"
	"time"

	"overcast/internal/docker"
	"overcast/internal/gateway"
)

// engineHealth reports each engine for /_overcast/health, pinging each at
// most every few seconds however often health is polled, and all at once
// so that one engine timing out does not hold the others' answers.
func engineHealth(engines []*docker.Engine, explicit bool, now func() time.Time) func(context.Context) []gateway.DockerHost {
	if !explicit {
		return nil
	}
	var mu sync.Mutex
	var checked time.Time
	var last []gateway.DockerHost
	return func(ctx context.Context) []gateway.DockerHost {
		mu.Lock()
		defer mu.Unlock()
		if now().Sub(checked) < 5*time.Second {
			return last
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		out := make([]gateway.DockerHost, len(engines))
		var wg sync.WaitGroup
		for i, e := range engines {
			out[i].Host = e.Host()
			wg.Go(func() {
				if err := e.Ping(ctx); err != nil {
					out[i].Error = err.Error()
				} else {
					out[i].Reachable = true
				}
			})
		}
		wg.Wait()
		checked, last = now(), out
		return out
	}
}
