package sqs

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	api "overcast/internal/api/sqs"
	"overcast/internal/service"
	"overcast/internal/store"
)

// maxVisibility is the longest a message stays hidden after a receive.
const maxVisibility = 12 * time.Hour

// receiveOptions is what a receive asks for.
type receiveOptions struct {
	max        int
	visibility time.Duration
	wait       time.Duration
}

// deadLetter is a message leaving its queue for the dead-letter queue.
type deadLetter struct {
	msg *message
	dlq *queue
}

// take receives up to opts.max available messages of q; it returns them
// (copies, as received), the dead letters it moved, when the next
// message may become available, and the channel a long poll waits on.
func (s *Service) take(ctx context.Context, q *queue, opts receiveOptions) ([]message, time.Time, <-chan struct{}, error) {
	q.mu.Lock()
	msgs, next, arrived, dead, err := s.takeLocked(ctx, q, opts)
	q.mu.Unlock()
	// The dead-letter queue's lock is taken after the source's is
	// released: two queues may be each other's dead-letter queue.
	for _, d := range dead {
		d.dlq.add(d.msg)
	}
	return msgs, next, arrived, err
}

func (s *Service) takeLocked(ctx context.Context, q *queue, opts receiveOptions) ([]message, time.Time, <-chan struct{}, []deadLetter, error) {
	now := s.Now()
	redrive, _ := parseRedrivePolicy(q.rec.Attributes[attrRedrivePolicy])
	var dlq *queue
	if redrive.MaxReceiveCount > 0 {
		dlq = s.queueByARN(redrive.DeadLetterTargetArn)
	}
	fifo := q.fifo()
	blocked := map[string]bool{} // FIFO groups with a message in flight or delayed
	var taken, expired []*message
	var dead []deadLetter
	var next time.Time
	for _, m := range q.messages {
		if len(taken) == opts.max {
			break
		}
		if m.deleted {
			continue
		}
		if q.expired(m, now) {
			expired = append(expired, m)
			continue
		}
		if fifo && blocked[m.GroupID] {
			continue
		}
		if now.Before(m.VisibleAt) {
			if next.IsZero() || m.VisibleAt.Before(next) {
				next = m.VisibleAt
			}
			if fifo {
				blocked[m.GroupID] = true
			}
			continue
		}
		if dlq != nil && m.ReceiveCount >= redrive.MaxReceiveCount {
			dead = append(dead, deadLetter{m, dlq})
			continue
		}
		taken = append(taken, m)
	}
	if len(taken) == 0 && len(dead) == 0 && len(expired) == 0 {
		if opts.wait == 0 {
			q.counts.emptyReceives++
		}
		return nil, next, q.arrived, nil, nil
	}
	// The new state of each taken message, written before it is handed out.
	received := make([]message, len(taken))
	for i, m := range taken {
		r := *m
		r.ReceiveCount++
		if r.FirstReceiveAt.IsZero() {
			r.FirstReceiveAt = now
		}
		r.VisibleAt, r.ReceivedAt = now.Add(opts.visibility), now
		r.Token = s.IDs.Hex(16)
		received[i] = r
	}
	moved := make([]message, len(dead))
	for i, d := range dead {
		moved[i] = d.msg.deadLetter(s.seq.Add(1), q.rec.arn(), d.dlq.fifo(), now)
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		for i := range received {
			if _, err := store.PutJSON(tx, messagesTable, messageKey(q.key, received[i].Seq), &received[i], store.AnyVersion); err != nil {
				return err
			}
		}
		for i, d := range dead {
			if err := tx.Delete(messagesTable, messageKey(q.key, d.msg.Seq), store.AnyVersion); err != nil {
				return err
			}
			if _, err := store.PutJSON(tx, messagesTable, messageKey(d.dlq.key, moved[i].Seq), &moved[i], store.AnyVersion); err != nil {
				return err
			}
		}
		for _, m := range expired {
			if err := tx.Delete(messagesTable, messageKey(q.key, m.Seq), store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, nil, nil, err
	}
	for i, m := range taken {
		*m = received[i]
	}
	for _, m := range expired {
		q.remove(m)
	}
	for i := range dead {
		q.remove(dead[i].msg)
		dead[i].msg = &moved[i]
	}
	q.counts.received += len(received)
	return received, next, q.arrived, dead, nil
}

// deadLetter is m as it arrives in a dead-letter queue: a new sequence
// number, not received yet, its source noted. A FIFO dead-letter queue
// takes the message ID as the deduplication ID.
func (m *message) deadLetter(seq uint64, source string, fifo bool, now time.Time) message {
	d := *m
	d.Seq, d.ReceiveCount, d.FirstReceiveAt, d.VisibleAt, d.Token, d.SourceARN = seq, 0, time.Time{}, now, "", source
	if fifo {
		d.DeduplicationID = m.ID
	}
	return d
}

// add puts a message the store already holds for q into memory.
func (q *queue) add(m *message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.insert(m)
	q.wake()
}

func (s *Service) ReceiveMessage(ctx context.Context, in *api.ReceiveMessageRequest) (*api.ReceiveMessageResult, error) {
	q, err := s.queueFor(ctx, in.QueueUrl, "ReceiveMessage")
	if err != nil {
		return nil, err
	}
	opts, err := receiveOptionsOf(q, in)
	if err != nil {
		return nil, err
	}
	attempt := service.Deref(in.ReceiveRequestAttemptId)
	if msgs := q.retriedAttempt(attempt, s.Now()); msgs != nil {
		return &api.ReceiveMessageResult{Messages: s.received(q, msgs, in)}, nil
	}
	deadline := s.Now().Add(opts.wait)
	for {
		msgs, next, arrived, err := s.take(ctx, q, opts)
		if err != nil {
			return nil, err
		}
		if len(msgs) > 0 {
			q.rememberAttempt(attempt, msgs, s.Now())
			return &api.ReceiveMessageResult{Messages: s.received(q, msgs, in)}, nil
		}
		now := s.Now()
		if !now.Before(deadline) {
			return &api.ReceiveMessageResult{}, nil
		}
		d := deadline.Sub(now)
		if !next.IsZero() && next.Sub(now) < d {
			d = next.Sub(now)
		}
		timer := s.clock.NewTimer(d)
		select {
		case <-arrived:
		case <-timer.C():
		case <-ctx.Done():
			timer.Stop()
			return &api.ReceiveMessageResult{}, nil
		}
		timer.Stop()
	}
}

// rememberAttempt keeps what a FIFO receive with a ReceiveRequestAttemptId
// returned, for a retry of it within 5 minutes.
func (q *queue) rememberAttempt(id string, msgs []message, now time.Time) {
	if id == "" || !q.fifo() {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for k, a := range q.attempts {
		if now.Sub(a.at) >= dedupInterval {
			delete(q.attempts, k)
		}
	}
	a := receiveAttempt{at: now}
	for _, m := range msgs {
		a.ids, a.tokens = append(a.ids, m.ID), append(a.tokens, m.Token)
	}
	q.attempts[id] = a
}

// retriedAttempt answers a FIFO receive that retries an attempt: the same
// messages with the same receipt handles, while they are all still in
// flight under those receipts; nil otherwise.
func (q *queue) retriedAttempt(id string, now time.Time) []message {
	if id == "" || !q.fifo() {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	a, ok := q.attempts[id]
	if !ok || now.Sub(a.at) >= dedupInterval {
		return nil
	}
	msgs := make([]message, len(a.ids))
	for i, mid := range a.ids {
		m := q.byID[mid]
		if m == nil || m.Token != a.tokens[i] || !m.inFlight(now) {
			return nil
		}
		msgs[i] = *m
	}
	return msgs
}

func receiveOptionsOf(q *queue, in *api.ReceiveMessageRequest) (receiveOptions, error) {
	q.mu.Lock()
	opts := receiveOptions{max: 1, visibility: q.seconds(attrVisibilityTimeout), wait: q.seconds(attrReceiveMessageWaitTimeSeconds)}
	q.mu.Unlock()
	if n := in.MaxNumberOfMessages; n != nil {
		if *n < 1 || *n > 10 {
			return opts, invalidParameter("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", *n)
		}
		opts.max = int(*n)
	}
	if v := in.VisibilityTimeout; v != nil {
		if *v < 0 || *v > 43200 {
			return opts, invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", *v)
		}
		opts.visibility = time.Duration(*v) * time.Second
	}
	if w := in.WaitTimeSeconds; w != nil {
		if *w < 0 || *w > 20 {
			return opts, invalidParameter("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *w)
		}
		opts.wait = time.Duration(*w) * time.Second
	}
	return opts, nil
}

// received is msgs as ReceiveMessage returns them: the system attributes
// and message attributes asked for, with their digests.
func (s *Service) received(q *queue, msgs []message, in *api.ReceiveMessageRequest) api.MessageList {
	sysNames := append(slices.Clone(in.AttributeNames), in.MessageSystemAttributeNames...)
	out := make(api.MessageList, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		sys := m.systemAttributes(sysNames)
		attrs := selectAttributes(m.Attributes, in.MessageAttributeNames)
		var wire api.MessageBodyAttributeMap
		if len(attrs) > 0 {
			wire = make(api.MessageBodyAttributeMap, len(attrs))
			for name, a := range attrs {
				wire[name] = api.MessageAttributeValue{DataType: new(a.DataType), StringValue: optional(a.StringValue), BinaryValue: a.BinaryValue}
			}
		}
		out[i] = api.Message{MessageId: new(m.ID), ReceiptHandle: new(receiptHandle(q, m)), MD5OfBody: new(m.MD5OfBody),
			Body: new(m.Body), Attributes: sys, MessageAttributes: wire, MD5OfMessageAttributes: optional(md5OfAttributes(attrs))}
	}
	return out
}

// systemAttributes returns the system attributes names asks for.
func (m *message) systemAttributes(names []string) api.MessageSystemAttributeMap {
	all := map[string]string{
		"SenderId":                         m.SenderID,
		"SentTimestamp":                    millis(m.SentAt),
		"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
		"ApproximateFirstReceiveTimestamp": millis(m.FirstReceiveAt),
	}
	if m.GroupID != "" {
		all["MessageGroupId"] = m.GroupID
	}
	if m.DeduplicationID != "" {
		all["MessageDeduplicationId"] = m.DeduplicationID
		all["SequenceNumber"] = fmt.Sprintf("%020d", m.Seq)
	}
	if m.SourceARN != "" {
		all["DeadLetterQueueSourceArn"] = m.SourceARN
	}
	if t, ok := m.SystemAttributes["AWSTraceHeader"]; ok {
		all["AWSTraceHeader"] = t.StringValue
	}
	out := api.MessageSystemAttributeMap{}
	for _, n := range names {
		if n == "All" {
			return all
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// selectAttributes returns the attributes names asks for: All or .*, a
// prefix followed by .*, or exact names.
func selectAttributes(attrs map[string]attributeValue, names []string) map[string]attributeValue {
	out := map[string]attributeValue{}
	for name, a := range attrs {
		for _, want := range names {
			prefix, wildcard := strings.CutSuffix(want, ".*")
			if want == "All" || want == ".*" || name == want || (wildcard && strings.HasPrefix(name, prefix+".")) {
				out[name] = a
				break
			}
		}
	}
	return out
}

// receiptHandle identifies one receive of m: its ID and the receive's
// token.
func receiptHandle(q *queue, m *message) string {
	return base64.RawURLEncoding.EncodeToString([]byte(q.rec.Name + "\x00" + m.ID + "\x00" + m.Token))
}

// parseReceiptHandle returns the message ID and token of a receipt handle
// for q.
func parseReceiptHandle(q *queue, handle string) (id, token string, err error) {
	b, decodeErr := base64.RawURLEncoding.DecodeString(handle)
	parts := strings.Split(string(b), "\x00")
	if decodeErr != nil || len(parts) != 3 || parts[0] != q.rec.Name {
		return "", "", api.NewReceiptHandleIsInvalid("The input receipt handle \"%s\" is not a valid receipt handle.", handle)
	}
	return parts[1], parts[2], nil
}

// deleteMessages deletes the messages the receipt handles name, each
// answered with nil or its error.
func (s *Service) deleteMessages(ctx context.Context, q *queue, handles []string) ([]error, error) {
	errs := make([]error, len(handles))
	q.mu.Lock()
	defer q.mu.Unlock()
	var gone []*message
	for i, h := range handles {
		id, _, err := parseReceiptHandle(q, h)
		if errs[i] = err; err != nil {
			continue
		}
		// An outdated handle still deletes the message, as on AWS; one
		// already deleted is not an error.
		if m := q.byID[id]; m != nil && !slices.Contains(gone, m) {
			gone = append(gone, m)
		}
	}
	if len(gone) == 0 {
		return errs, nil
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		for _, m := range gone {
			if err := tx.Delete(messagesTable, messageKey(q.key, m.Seq), store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, m := range gone {
		q.remove(m)
		q.counts.deleted++
	}
	q.wake() // the next message of a FIFO group may be available
	return errs, nil
}

func (s *Service) DeleteMessage(ctx context.Context, in *api.DeleteMessageRequest) error {
	q, err := s.queueFor(ctx, in.QueueUrl, "DeleteMessage")
	if err != nil {
		return err
	}
	return onlyError(s.deleteMessages(ctx, q, []string{*in.ReceiptHandle}))
}

// onlyError is the outcome of a batch of one: the batch's failure, or the
// entry's.
func onlyError(errs []error, err error) error {
	if err != nil {
		return err
	}
	return errs[0]
}

func (s *Service) DeleteMessageBatch(ctx context.Context, in *api.DeleteMessageBatchRequest) (*api.DeleteMessageBatchResult, error) {
	q, err := s.queueFor(ctx, in.QueueUrl, "DeleteMessage")
	if err != nil {
		return nil, err
	}
	if err := checkBatch(in.Entries, func(e api.DeleteMessageBatchRequestEntry) *string { return e.Id }, "DeleteMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	handles := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		handles[i] = *e.ReceiptHandle
	}
	errs, err := s.deleteMessages(ctx, q, handles)
	if err != nil {
		return nil, err
	}
	ok, failed := batchResults(in.Entries, errs, func(e api.DeleteMessageBatchRequestEntry) *string { return e.Id },
		func(i int) api.DeleteMessageBatchResultEntry {
			return api.DeleteMessageBatchResultEntry{Id: in.Entries[i].Id}
		})
	return &api.DeleteMessageBatchResult{Successful: ok, Failed: failed}, nil
}

// visibilityChange is one ChangeMessageVisibility.
type visibilityChange struct {
	handle  string
	timeout int32
}

// changeVisibility applies changes to q, each answered with nil or its
// error.
func (s *Service) changeVisibility(ctx context.Context, q *queue, changes []visibilityChange) ([]error, error) {
	errs := make([]error, len(changes))
	q.mu.Lock()
	defer q.mu.Unlock()
	now := s.Now()
	updated := map[*message]message{}
	for i, c := range changes {
		id, token, err := parseReceiptHandle(q, c.handle)
		if err != nil {
			errs[i] = err
			continue
		}
		if c.timeout < 0 || c.timeout > 43200 {
			errs[i] = invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", c.timeout)
			continue
		}
		m := q.byID[id]
		if m == nil || m.Token != token || !m.inFlight(now) {
			errs[i] = &api.MessageNotInflight{}
			continue
		}
		until := now.Add(time.Duration(c.timeout) * time.Second)
		if until.Sub(m.ReceivedAt) > maxVisibility {
			errs[i] = invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds].", c.timeout)
			continue
		}
		u := *m
		u.VisibleAt = until
		updated[m] = u
	}
	if len(updated) == 0 {
		return errs, nil
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		for _, u := range updated {
			if _, err := store.PutJSON(tx, messagesTable, messageKey(q.key, u.Seq), &u, store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for m, u := range updated {
		*m = u
	}
	q.wake()
	return errs, nil
}

func (s *Service) ChangeMessageVisibility(ctx context.Context, in *api.ChangeMessageVisibilityRequest) error {
	q, err := s.queueFor(ctx, in.QueueUrl, "ChangeMessageVisibility")
	if err != nil {
		return err
	}
	return onlyError(s.changeVisibility(ctx, q, []visibilityChange{{*in.ReceiptHandle, *in.VisibilityTimeout}}))
}

func (s *Service) ChangeMessageVisibilityBatch(ctx context.Context, in *api.ChangeMessageVisibilityBatchRequest) (*api.ChangeMessageVisibilityBatchResult, error) {
	q, err := s.queueFor(ctx, in.QueueUrl, "ChangeMessageVisibility")
	if err != nil {
		return nil, err
	}
	if err := checkBatch(in.Entries, func(e api.ChangeMessageVisibilityBatchRequestEntry) *string { return e.Id }, "ChangeMessageVisibilityBatchRequestEntry"); err != nil {
		return nil, err
	}
	changes := make([]visibilityChange, len(in.Entries))
	for i, e := range in.Entries {
		changes[i] = visibilityChange{*e.ReceiptHandle, service.Deref(e.VisibilityTimeout)}
	}
	errs, err := s.changeVisibility(ctx, q, changes)
	if err != nil {
		return nil, err
	}
	ok, failed := batchResults(in.Entries, errs, func(e api.ChangeMessageVisibilityBatchRequestEntry) *string { return e.Id },
		func(i int) api.ChangeMessageVisibilityBatchResultEntry {
			return api.ChangeMessageVisibilityBatchResultEntry{Id: in.Entries[i].Id}
		})
	return &api.ChangeMessageVisibilityBatchResult{Successful: ok, Failed: failed}, nil
}
