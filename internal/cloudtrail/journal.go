package cloudtrail

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"overcast"
	"overcast/internal/store"
)

// The journal is the recorder's write-ahead log. Each event is copied
// into it before its call is answered: the journal's file is mapped
// shared into memory, so an append is a copy, no system call, and a
// process that is killed leaves what it copied in the kernel's page
// cache, which writes it to the file. The next start writes to the
// history whatever the history does not hold yet. The writer commits,
// with each batch, where in the journal the batch ends (the checkpoint,
// in the same transaction), so that an event is written once, crash or
// not. Files are journalFileSize long, allocated when made (what was
// never written reads as zeros, where replay stops), and go once the
// history holds all they hold.
type journal struct {
	dir string

	mu  sync.Mutex // appends, and the queue sends that follow them, in one order
	f   *os.File   // the file being appended to, pos.File
	m   []byte     // f, mapped
	pos journalPos // where the next append goes
	buf []byte

	filesMu sync.Mutex // the writer's, apart from mu: appends wait on it
	live    int64      // the oldest file not removed yet
	done    journalPos // how far the history holds the journal
}

// journalPos is a place in the journal: a file's number and an offset in it.
type journalPos struct {
	File   int64 `json:"file"`
	Offset int64 `json:"offset"`
}

func (p journalPos) before(q journalPos) bool {
	return p.File < q.File || p.File == q.File && p.Offset < q.Offset
}

const (
	// journalDir is the journal's folder under the data dir.
	journalDir = "cloudtrail-journal"
	// journalFileSize is the size past which appends go to a new file.
	journalFileSize = 16 << 20
	// checkpointTable holds the journal's checkpoint, in the history,
	// under the journal's ID: processes sharing a store each have theirs.
	checkpointTable = "cloudtrail.journal"
)

// openJournal opens the journal in dir, the one named id, writing to
// history the events that it holds beyond its checkpoint (what a killed
// process left), and starts a new file for this process's appends.
func openJournal(dir, id string, history store.Store, write func(batch []pending) error) (*journal, error) {
	files, err := journalFiles(dir)
	if err != nil {
		return nil, err
	}
	var cp journalPos
	err = history.View(context.Background(), func(tx store.Tx) error {
		_, err := store.GetJSON(tx, checkpointTable, id, &cp)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cloudtrail: journal checkpoint: %w", err)
	}
	// The new file comes after every file and after the checkpoint: a
	// journal closed cleanly left no file, and its next must still count
	// on from the checkpoint, which replay compares positions with.
	next := cp.File + 1
	for _, n := range files {
		next = max(next, n+1)
		if n < cp.File {
			continue
		}
		if err := replayJournalFile(filepath.Join(dir, journalFileName(n)), n, cp, write); err != nil {
			return nil, err
		}
	}
	for _, n := range files {
		os.Remove(filepath.Join(dir, journalFileName(n))) // all of it is in the history now
	}
	j := &journal{dir: dir, live: next, done: journalPos{File: next}}
	if err := j.open(next, journalFileSize); err != nil {
		return nil, fmt.Errorf("cloudtrail: journal: %w", err)
	}
	return j, nil
}

// open makes file n, size bytes long, the one appends go to.
func (j *journal) open(n int64, size int) error {
	f, err := os.OpenFile(filepath.Join(j.dir, journalFileName(n)), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	// Blocks allocated now: a write to a page of a sparse file's map
	// that finds the disk full kills the process (SIGBUS), where
	// fallocate fails here, with an error. Where it is not supported, a
	// sparse file.
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(size)); err != nil {
		if err := f.Truncate(int64(size)); err != nil {
			f.Close()
			return err
		}
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return err
	}
	j.unmap()
	j.f, j.m, j.pos = f, m, journalPos{File: n}
	return nil
}

// unmap lets go of the file being appended to.
func (j *journal) unmap() error {
	if j.f == nil {
		return nil
	}
	err := syscall.Munmap(j.m)
	err = cmp.Or(err, j.f.Close())
	j.f, j.m = nil, nil
	return err
}

// journalID makes the journal's folder under dataDir and returns it and
// the name of this data dir's journal among those sharing a store: made
// at first use, kept in the folder.
func journalID(dataDir string) (dir, id string, err error) {
	dir = filepath.Join(dataDir, journalDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("cloudtrail: journal: %w", err)
	}
	file := filepath.Join(dir, "id")
	if b, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return dir, strings.TrimSpace(string(b)), nil
	}
	id = strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(file, []byte(id+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("cloudtrail: journal: %w", err)
	}
	return dir, id, nil
}

func journalFileName(n int64) string { return fmt.Sprintf("%012d.log", n) }

// journalFiles are the numbers of the journal's files, in order.
func journalFiles(dir string) ([]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cloudtrail: journal: %w", err)
	}
	var files []int64
	for _, e := range entries {
		if n, err := strconv.ParseInt(strings.TrimSuffix(e.Name(), ".log"), 10, 64); err == nil && strings.HasSuffix(e.Name(), ".log") {
			files = append(files, n)
		}
	}
	slices.Sort(files)
	return files, nil
}

// replayJournalFile writes the events of file n past the checkpoint, in
// batches; a torn or damaged tail (an append the process died in) ends it.
// A write that fails stops it: the files stay for the next start.
func replayJournalFile(path string, n int64, cp journalPos, write func(batch []pending) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cloudtrail: journal: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var off int64
	batch := make([]pending, 0, batchSize)
	for {
		p, size, err := readJournalEntry(br)
		if err != nil {
			break // the end, or a tail that was never wholly written
		}
		off += size
		p.pos = journalPos{File: n, Offset: off}
		if !cp.before(p.pos) {
			continue // in the history already
		}
		if batch = append(batch, p); len(batch) == batchSize {
			if err := write(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return write(batch)
	}
	return nil
}

// add appends p's event to the journal and sends p on queue, in the
// journal's order, with its position. An event too big for what is left
// of the file goes to the next, which is as big as the event needs.
func (j *journal) add(p *pending, queue chan<- pending) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = appendJournalEntry(j.buf[:0], p)
	var err error
	if j.f == nil || int(j.pos.Offset)+len(j.buf) > len(j.m) {
		err = j.open(j.pos.File+1, max(journalFileSize, len(j.buf)))
	}
	if j.f != nil {
		copy(j.m[j.pos.Offset:], j.buf)
		j.pos.Offset += int64(len(j.buf))
	}
	p.pos = j.pos
	queue <- *p // the writer never waits on mu: a full queue only holds appends back
	return err
}

// committed is told that the history holds everything up to pos: files
// before pos's go.
func (j *journal) committed(pos journalPos) {
	j.filesMu.Lock()
	defer j.filesMu.Unlock()
	if j.done.before(pos) {
		j.done = pos
	}
	for ; j.live < j.done.File; j.live++ {
		os.Remove(filepath.Join(j.dir, journalFileName(j.live)))
	}
}

// close closes the journal, removing its files when the history holds all
// they hold (after the writer's last batch); otherwise the next start
// writes what is missing.
func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.filesMu.Lock()
	defer j.filesMu.Unlock()
	err := j.unmap()
	if j.done == j.pos {
		for ; j.live <= j.pos.File; j.live++ {
			os.Remove(filepath.Join(j.dir, journalFileName(j.live)))
		}
	}
	return err
}

// An entry is its length (4 bytes, little-endian), its body and the body's
// CRC-32 (4 bytes): the scope, then the event's fields, each a uvarint or
// a uvarint length and bytes.
func appendJournalEntry(b []byte, p *pending) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	ev := &p.ev
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	raw := func(s []byte) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	str(p.scope.Account)
	str(p.scope.Region)
	b = binary.AppendUvarint(b, uint64(ev.time.Unix())) // after 1970
	b = binary.AppendUvarint(b, uint64(ev.flags))
	for _, s := range []string{ev.requestID, ev.name, ev.source, ev.identity, ev.username, ev.accessKeyID,
		ev.sourceIP, ev.userAgent, ev.errorCode, ev.errorMessage, ev.dataType} {
		str(s)
	}
	raw(ev.requestParameters)
	raw(ev.responseElements)
	b = binary.AppendUvarint(b, uint64(len(ev.resources)))
	for _, r := range ev.resources {
		str(r.Type)
		str(r.Name)
	}
	body := b[start+4:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(body)))
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(body))
}

var errJournalEntry = errors.New("cloudtrail: damaged journal entry")

// readJournalEntry reads one entry and returns it and its size.
func readJournalEntry(r io.Reader) (pending, int64, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return pending{}, 0, err
	}
	n := binary.LittleEndian.Uint32(head[:])
	if n == 0 {
		return pending{}, 0, io.EOF // the zeros past the last append
	}
	if n > 1<<30 {
		return pending{}, 0, errJournalEntry
	}
	body := make([]byte, n+4)
	if _, err := io.ReadFull(r, body); err != nil {
		return pending{}, 0, err
	}
	if crc32.ChecksumIEEE(body[:n]) != binary.LittleEndian.Uint32(body[n:]) {
		return pending{}, 0, errJournalEntry
	}
	d := journalDecoder{b: body[:n]}
	var p pending
	p.scope = overcast.Scope{Account: d.str(), Region: d.str()}
	ev := &p.ev
	ev.time = time.Unix(int64(d.uvarint()), 0).UTC()
	ev.flags = int(d.uvarint())
	for _, s := range []*string{&ev.requestID, &ev.name, &ev.source, &ev.identity, &ev.username, &ev.accessKeyID,
		&ev.sourceIP, &ev.userAgent, &ev.errorCode, &ev.errorMessage, &ev.dataType} {
		*s = d.str()
	}
	ev.requestParameters = d.raw()
	ev.responseElements = d.raw()
	for range d.uvarint() {
		if d.err != nil {
			break
		}
		ev.resources = append(ev.resources, resource{Type: d.str(), Name: d.str()})
	}
	if d.err != nil {
		return pending{}, 0, d.err
	}
	return p, int64(n) + 8, nil
}

// journalDecoder reads an entry's body; the first error sticks.
type journalDecoder struct {
	b   []byte
	err error
}

func (d *journalDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = errJournalEntry, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *journalDecoder) raw() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err, d.b = errJournalEntry, nil
		return nil
	}
	if n == 0 {
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *journalDecoder) str() string { return string(d.raw()) }

// putCheckpoint records in tx that the history holds the journal up to pos.
func putCheckpoint(tx store.Tx, id string, pos journalPos) error {
	b, _ := json.Marshal(pos)
	_, err := tx.Put(checkpointTable, id, b, store.AnyVersion)
	return err
}
