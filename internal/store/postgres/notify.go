package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notify sends payload to the processes listening on channel, through
// PostgreSQL's NOTIFY: how one overcast wakes the controllers another
// runs. It is delivered to the listeners connected when it commits, at
// most once; payloads are at most MaxNotifyPayload bytes.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	if err := db.enter(ctx); err != nil {
		return err
	}
	defer db.running.Done()
	if _, err := db.pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel, payload); err != nil {
		return fmt.Errorf("postgres: notify (%s): %w", db.where, err)
	}
	return nil
}

// MaxNotifyPayload is the longest payload Notify sends: PostgreSQL's
// limit is 8000 bytes.
const MaxNotifyPayload = 7900

// Listen calls onNotify with the payload of each notification on channel
// until ctx ends. It listens on a connection of its own, outside the pool,
// so that waiting holds none of the pool's; when that connection breaks it
// connects again, with back-off. Notifications sent while no connection
// listened are lost, so onListen is called each time listening (re)starts:
// the caller catches up there from what the store holds.
func (db *DB) Listen(ctx context.Context, channel string, onListen func(), onNotify func(payload string)) error {
	cfg := db.pool.Config().ConnConfig.Copy()
	wait := 100 * time.Millisecond
	for {
		err := db.listenOnce(ctx, cfg, channel, onListen, onNotify)
		if ctx.Err() != nil {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if err != nil {
			wait = min(2*wait, 5*time.Second)
		}
	}
}

func (db *DB) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, channel string, onListen func(), onNotify func(string)) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		// Bounded: a server that went away must not hold Listen's return.
		closing, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		conn.Close(closing)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	onListen()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		onNotify(n.Payload)
	}
}
