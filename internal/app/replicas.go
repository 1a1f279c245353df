package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"overcast/internal/controller"
	"overcast/internal/service"
)

const (
	// controllersLease is the lease the process running the controllers
	// holds.
	controllersLease = "controllers"
	// wakeChannel carries keys enqueued on a replica that does not run
	// the controllers to the one that does.
	wakeChannel = "overcast_controllers"
	// defaultLeaseTTL is how long the leader's lease lasts unrenewed:
	// after kill -9, another replica takes the controllers over within
	// about that long (and a third more, its own look's period).
	defaultLeaseTTL = 5 * time.Second
	// maxWakePayload keeps a notification under PostgreSQL's 8000 bytes.
	maxWakePayload = 7900
	// resyncEvery is how often the leader lists every controller's keys
	// again, for the forwarded keys a dropped connection lost.
	resyncEvery = time.Minute
)

// wake is one notification: keys for a controller.
type wake struct {
	Controller string   `json:"c"`
	Keys       []string `json:"k"`
}

// replication runs the controllers of a process sharing its store with
// others: under the lease, so that one process at a time reconciles, with
// the keys other processes enqueue reaching it by NOTIFY.
type replication struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startReplication runs m's controllers as one of several replicas, until
// stop. holder names this process in the lease.
func startReplication(m *controller.Manager, st service.Peers, lease *controller.Lease, logger interface {
	Warn(string, ...any)
}) *replication {
	ctx, cancel := context.WithCancel(context.Background())
	r := &replication{cancel: cancel}
	m.SetForwarder(notifier{st})
	m.Every("controller-resync", resyncEvery, func(ctx context.Context) error {
		m.Resync(ctx)
		return nil
	})
	r.wg.Go(func() { m.RunLeased(ctx, lease) })
	r.wg.Go(func() {
		err := st.Listen(ctx, wakeChannel,
			// Whatever was forwarded while nobody listened: catch up.
			func() { go m.Resync(ctx) },
			func(payload string) {
				var w wake
				if err := json.Unmarshal([]byte(payload), &w); err != nil {
					logger.Warn("app: a wake-up that is not one", "payload", payload, "err", err)
					return
				}
				m.Enqueue(w.Controller, w.Keys...)
			})
		if err != nil {
			logger.Warn("app: listening for wake-ups", "err", err)
		}
	})
	return r
}

// stop stops the controllers, releasing the lease.
func (r *replication) stop() {
	r.cancel()
	r.wg.Wait()
}

// notifier forwards keys by NOTIFY, in payloads small enough.
type notifier struct{ st service.Peers }

func (n notifier) Forward(ctx context.Context, name string, keys []string) error {
	for len(keys) > 0 {
		w := wake{Controller: name}
		size := len(name) + 16
		for len(keys) > 0 && (len(w.Keys) == 0 || size+len(keys[0])+3 < maxWakePayload) {
			size += len(keys[0]) + 3 // quotes and comma; JSON escapes are rare in keys
			w.Keys = append(w.Keys, keys[0])
			keys = keys[1:]
		}
		payload, err := json.Marshal(w)
		if err != nil {
			return err
		}
		if len(payload) > maxWakePayload {
			// One key too long to forward: the leader's resync finds it.
			continue
		}
		if err := n.st.Notify(ctx, wakeChannel, string(payload)); err != nil {
			return err
		}
	}
	return nil
}

// leaseHolder names this process among the replicas: host, pid and a
// random part, since pids repeat across machines and restarts.
func leaseHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}
