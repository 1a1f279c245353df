package sqs

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	api "overcast/internal/api/sqs"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// moveTask is a message move task: the redrive of a dead-letter queue's
// messages back to their sources (or to DestinationArn).
type moveTask struct {
	Handle, SourceARN, DestinationARN string
	MaxPerSecond                      int32
	Status                            string // RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED
	Moved, ToMove                     int64
	Started                           time.Time
	FailureReason                     string
}

// moveBatch is how many messages one reconcile moves.
const moveBatch = 100

func (s *Service) StartMessageMoveTask(ctx context.Context, in *api.StartMessageMoveTaskRequest) (*api.StartMessageMoveTaskResult, error) {
	src := s.queueByARN(*in.SourceArn)
	if src == nil {
		return nil, api.NewResourceNotFoundException("The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	if len(s.sourcesOf(src)) == 0 {
		return nil, invalidParameter("Source queue must be configured as a Dead Letter Queue.")
	}
	if in.DestinationArn != nil && s.queueByARN(*in.DestinationArn) == nil {
		return nil, api.NewResourceNotFoundException("The resource that you specified for the DestinationArn parameter doesn't exist.")
	}
	tasks, err := s.movesOf(ctx, *in.SourceArn)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(tasks, func(t moveTask) bool { return t.Status == "RUNNING" }) {
		return nil, invalidParameter("There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
	}
	src.mu.Lock()
	visible, _, _, _ := src.depth(s.Now())
	src.mu.Unlock()
	t := moveTask{Handle: base64.RawURLEncoding.EncodeToString([]byte(*in.SourceArn + "\x00" + s.IDs.UUID())),
		SourceARN: *in.SourceArn, DestinationARN: service.Deref(in.DestinationArn), MaxPerSecond: service.Deref(in.MaxNumberOfMessagesPerSecond),
		Status: "RUNNING", ToMove: int64(visible), Started: s.Now()}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, movesTable, t.Handle, t, store.AnyVersion)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.moves.Enqueue(t.Handle)
	return &api.StartMessageMoveTaskResult{TaskHandle: &t.Handle}, nil
}

// movesOf returns the move tasks of a source queue, the newest first.
func (s *Service) movesOf(ctx context.Context, source string) ([]moveTask, error) {
	var tasks []moveTask
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		tasks, err = store.FilterJSON(tx, movesTable, store.ScanOptions{}, func(t moveTask) bool { return t.SourceARN == source })
		return err
	})
	slices.SortFunc(tasks, func(a, b moveTask) int { return b.Started.Compare(a.Started) })
	return tasks, err
}

func (s *Service) ListMessageMoveTasks(ctx context.Context, in *api.ListMessageMoveTasksRequest) (*api.ListMessageMoveTasksResult, error) {
	if s.queueByARN(*in.SourceArn) == nil {
		return nil, api.NewResourceNotFoundException("The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	limit := 1
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 10 {
			return nil, invalidParameter("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 10.", *in.MaxResults)
		}
		limit = int(*in.MaxResults)
	}
	tasks, err := s.movesOf(ctx, *in.SourceArn)
	if err != nil {
		return nil, err
	}
	out := &api.ListMessageMoveTasksResult{Results: api.ListMessageMoveTasksResultEntryList{}}
	for i, t := range tasks {
		if i == limit {
			break
		}
		e := api.ListMessageMoveTasksResultEntry{Status: new(t.Status), SourceArn: new(t.SourceARN),
			DestinationArn: optional(t.DestinationARN), ApproximateNumberOfMessagesMoved: new(t.Moved),
			ApproximateNumberOfMessagesToMove: new(t.ToMove), StartedTimestamp: new(t.Started.UnixMilli()),
			FailureReason: optional(t.FailureReason)}
		if t.MaxPerSecond > 0 {
			e.MaxNumberOfMessagesPerSecond = new(t.MaxPerSecond)
		}
		if t.Status == "RUNNING" {
			e.TaskHandle = new(t.Handle)
		}
		out.Results = append(out.Results, e)
	}
	return out, nil
}

func (s *Service) CancelMessageMoveTask(ctx context.Context, in *api.CancelMessageMoveTaskRequest) (*api.CancelMessageMoveTaskResult, error) {
	var t moveTask
	err := store.UpdateRetry(ctx, s.Store, 3, func(tx store.Tx) error {
		v, err := store.GetJSON(tx, movesTable, *in.TaskHandle, &t)
		if errors.Is(err, store.ErrNotFound) {
			return api.NewResourceNotFoundException("Task does not exist.")
		}
		if err != nil {
			return err
		}
		if t.Status != "RUNNING" {
			return invalidParameter("Only active tasks can be cancelled.")
		}
		t.Status = "CANCELLED"
		_, err = store.PutJSON(tx, movesTable, t.Handle, t, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CancelMessageMoveTaskResult{ApproximateNumberOfMessagesMoved: new(t.Moved)}, nil
}

// runningMoves are the tasks a restart resumes.
func (s *Service) runningMoves(ctx context.Context) ([]string, error) {
	var keys []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, movesTable, store.ScanOptions{}, func(key string, t moveTask, _ int64) error {
			if t.Status == "RUNNING" {
				keys = append(keys, key)
			}
			return nil
		})
	})
	return keys, err
}

// reconcileMove moves the next batch of a running task's messages.
func (s *Service) reconcileMove(ctx context.Context, handle string) (controller.Result, error) {
	var t moveTask
	var version int64
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		version, err = store.GetJSON(tx, movesTable, handle, &t)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.Status != "RUNNING") {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	moved, failure := s.moveBatch(ctx, t)
	t.Moved += int64(moved)
	switch {
	case failure != "":
		t.Status, t.FailureReason = "FAILED", failure
	case moved == 0:
		t.Status = "COMPLETED"
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, movesTable, handle, t, version)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return controller.Result{}, nil // cancelled meanwhile
	}
	if err != nil || t.Status != "RUNNING" {
		return controller.Result{}, err
	}
	return controller.Result{Requeue: true}, nil
}

// moveBatch moves up to moveBatch available messages of t's source to
// their destination; it returns how many, or why it cannot.
func (s *Service) moveBatch(ctx context.Context, t moveTask) (int, string) {
	src := s.queueByARN(t.SourceARN)
	if src == nil {
		return 0, "AWS.SimpleQueueService.NonExistentQueue"
	}
	src.mu.Lock()
	now := s.Now()
	var picked []*message
	var dests []*queue
	for _, m := range src.messages {
		if len(picked) == moveBatch {
			break
		}
		if m.deleted || now.Before(m.VisibleAt) || src.expired(m, now) {
			continue
		}
		dest := t.DestinationARN
		if dest == "" {
			dest = m.SourceARN
		}
		q := s.queueByARN(dest)
		if q == nil || q == src {
			continue
		}
		picked, dests = append(picked, m), append(dests, q)
	}
	moved := make([]message, len(picked))
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		for i, m := range picked {
			moved[i] = m.deadLetter(s.seq.Add(1), "", dests[i].fifo(), now)
			if !dests[i].fifo() {
				moved[i].DeduplicationID = ""
			}
			if err := tx.Delete(messagesTable, messageKey(src.key, m.Seq), store.AnyVersion); err != nil {
				return err
			}
			if _, err := store.PutJSON(tx, messagesTable, messageKey(dests[i].key, moved[i].Seq), &moved[i], store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		for _, m := range picked {
			src.remove(m)
		}
	}
	src.mu.Unlock()
	if err != nil {
		return 0, err.Error()
	}
	for i := range moved {
		dests[i].add(&moved[i])
	}
	return len(moved), ""
}
