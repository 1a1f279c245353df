// Package bus is overcast's in-process event bus: services publish what
// happened (an object was created, a build finished), other services
// subscribe (EventBridge rules, pipeline triggers, S3 notifications to
// queues), and neither imports the other.
//
// Delivery is at least once, across restarts, through a transactional
// outbox in package store:
//
//   - Publish writes the event into the outbox table inside the caller's
//     own store transaction, so an event exists if and only if the change
//     it reports was committed. On SQLite, a counter item bumped in that
//     same transaction numbers events in commit order. On a store that
//     runs Updates concurrently (PostgreSQL), that counter would make every
//     pair of publishers conflict: the store's store.Sequencer numbers
//     them instead, without conflicts but not in commit order and with
//     gaps where transactions rolled back, and subscriptions read only
//     up to the number it says is settled (every transaction that took a
//     number up to there has ended), so a late commit is not skipped.
//   - Each subscription has a durable name and a cursor (the last event it
//     handled) in the store. Its goroutine reads the outbox after the
//     cursor, hands matching events to the handler one at a time, retries a
//     failing handler with backoff, and saves the cursor after each batch.
//     A crash between handling and saving the cursor re-delivers: handlers
//     must tolerate duplicates (Event.ID identifies them).
//   - A subscription created for the first time starts at the end of the
//     outbox: it sees events published from then on. One that existed
//     before a restart resumes where its saved cursor stands.
//   - Events every cursor has passed are pruned; so are events older than
//     the retention period (a day by default) whatever the cursors say, so
//     a subscriber that never comes back cannot grow the outbox forever.
//
// After the transaction that published commits, call Notify (or publish
// with a nil Tx, which commits by itself) to wake the subscribers at once;
// otherwise they notice within PollInterval.
package bus
