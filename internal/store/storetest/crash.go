package storetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"overcast/internal/childtest"
	"overcast/internal/store"
)

// crashEnv, when set, turns the crash test into the child process that
// writes until it is killed. Its value is "<round> <target>".
const crashEnv = "OVERCAST_STORE_CRASH_CHILD"

const (
	crashWriters   = 4    // concurrent writers in the child, so commits are in flight when it dies
	crashAcks      = 3000 // acknowledged commits before the parent kills the child
	crashRounds    = 3    // crashes of the same database
	crashValueSize = 4096 // large enough that the WAL is checkpointed during a round
)

// crashValue is the value of item (round, writer, i), reproducible by the parent.
func crashValue(round, writer, i int) []byte {
	head := fmt.Sprintf("%d/%d/%d:", round, writer, i)
	return append([]byte(head), bytes.Repeat([]byte{byte('a' + (round+writer+i)%26)}, crashValueSize)...)
}

func crashKey(round, writer, i int) string { return fmt.Sprintf("r%d/w%d/%08d", round, writer, i) }

// Crash kills a process writing to a store with SIGKILL, several times,
// and checks that every commit it acknowledged survives, that no
// transaction is half applied, and that the store takes writes again: the
// durability overcast promises. target names the store (a file, a URL) and
// is called once, in the parent; open opens the store it names, in the
// parent and in the child; check, if not nil, adds the implementation's own
// integrity checks on the reopened store. The caller's test runs again, as
// the child, so it must call Crash before anything a child must not do.
func Crash(t *testing.T, target func(t *testing.T) string, open func(t testing.TB, target string) store.Store,
	check func(t *testing.T, s store.Store)) {
	if childtest.IsChild(t, crashEnv, func(t *testing.T, arg string) { crashChild(t, arg, open) }) {
		return
	}
	where := target(t)
	for round := range crashRounds {
		acked := runCrashChild(t, where, round)
		if len(acked) < crashAcks {
			t.Fatalf("round %d: child acknowledged only %d commits before dying", round, len(acked))
		}
		s := open(t, where)
		if check != nil {
			check(t, s)
		}
		checkAfterCrash(t, s, round, acked)
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
	}
}

type crashAck struct{ round, writer, i int }

// runCrashChild starts the child, kills it once it has acknowledged
// crashAcks commits, and returns every acknowledgement it printed.
func runCrashChild(t *testing.T, where string, round int) []crashAck {
	t.Helper()
	cmd := childtest.Command(t, crashEnv, fmt.Sprintf("%d %s", round, where))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []crashAck
	killed := false
	sc := bufio.NewScanner(out)
	// Keep reading after the kill: lines written before it are still in the
	// pipe, and each one is a commit the child reported as done.
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "ack" {
			continue // go test's own output
		}
		a := crashAck{}
		a.round, _ = strconv.Atoi(f[1])
		a.writer, _ = strconv.Atoi(f[2])
		a.i, _ = strconv.Atoi(f[3])
		acked = append(acked, a)
		if len(acked) == crashAcks && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("kill: %v", err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited by itself after %d acks: %v", len(acked), err)
	}
	return acked
}

func crashChild(t *testing.T, arg string, open func(t testing.TB, target string) store.Store) {
	roundStr, where, _ := strings.Cut(arg, " ")
	round, err := strconv.Atoi(roundStr)
	if err != nil {
		t.Fatalf("bad %s=%q", crashEnv, arg)
	}
	ctx := context.Background()
	db := open(t, where)
	var mu sync.Mutex // one ack line per write(2), never interleaved
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			for i := 0; ; i++ {
				err := db.Update(ctx, func(tx store.Tx) error {
					key, value := crashKey(round, w, i), crashValue(round, w, i)
					// Two items per transaction: both or neither must survive.
					if _, err := tx.Put("crash", key, value, 0); err != nil {
						return err
					}
					_, err := tx.Put("crash-pair", key, value, 0)
					return err
				})
				if err != nil {
					fmt.Fprintf(os.Stderr, "child: update: %v\n", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %d %d %d\n", round, w, i)
				mu.Unlock()
			}
		})
	}
	wg.Wait() // never returns: the parent kills us
}

func checkAfterCrash(t *testing.T, db store.Store, round int, acked []crashAck) {
	t.Helper()
	ctx := context.Background()
	err := db.View(ctx, func(tx store.Tx) error {
		for _, a := range acked {
			key := crashKey(a.round, a.writer, a.i)
			for _, table := range []string{"crash", "crash-pair"} {
				it, err := tx.Get(table, key)
				if err != nil {
					return fmt.Errorf("acknowledged %s/%s: %w", table, key, err)
				}
				if !bytes.Equal(it.Value, crashValue(a.round, a.writer, a.i)) || it.Version != 1 {
					return fmt.Errorf("acknowledged %s/%s: wrong value or version %d", table, key, it.Version)
				}
			}
		}
		// Atomicity: the two tables hold exactly the same keys.
		var keys, pairs []string
		for table, dst := range map[string]*[]string{"crash": &keys, "crash-pair": &pairs} {
			if err := tx.Scan(table, store.ScanOptions{}, func(it store.Item) error {
				*dst = append(*dst, it.Key)
				return nil
			}); err != nil {
				return err
			}
		}
		if len(keys) != len(pairs) {
			return fmt.Errorf("crash has %d items, crash-pair %d: a transaction was half applied", len(keys), len(pairs))
		}
		for i := range keys {
			if keys[i] != pairs[i] {
				return fmt.Errorf("item %d: crash has %q, crash-pair %q", i, keys[i], pairs[i])
			}
		}
		t.Logf("round %d: %d acknowledged, %d items in total survived", round, len(acked), len(keys))
		return nil
	})
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	// And the recovered database takes writes again.
	if err := db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put("after", strconv.Itoa(round), []byte("x"), store.AnyVersion)
		return err
	}); err != nil {
		t.Fatalf("round %d: write after recovery: %v", round, err)
	}
}
