package store

import "context"

// pingTable is a table no service uses: Ping reads it.
const pingTable = "overcast-ping"

// Ping reports whether s answers: a View that asks the database a question
// (it counts an unused table), so a store on a server that went away fails.
func Ping(ctx context.Context, s Store) error {
	return s.View(ctx, func(tx Tx) error {
		_, err := tx.Count(pingTable, "")
		return err
	})
}
