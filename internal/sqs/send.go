package sqs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/sqs"
	"overcast/internal/awsproto"
	"overcast/internal/service"
	"overcast/internal/store"
)

// sendInput is one message to send.
type sendInput struct {
	body             string
	attrs, sysAttrs  map[string]attributeValue
	delay            *int32
	groupID, dedupID string
	senderID         string
}

// sent is what a send reports.
type sent struct {
	id, md5Body, md5Attrs, md5SysAttrs string
	seq                                uint64
	fifo                               bool
}

func missingParameter(name string) error {
	return &awsproto.Error{Code: "MissingParameter", Status: 400, Message: "The request must contain the parameter " + name + "."}
}

var attributeName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)

// userAttributes converts and validates a message's attributes.
func userAttributes(in api.MessageBodyAttributeMap) (map[string]attributeValue, error) {
	if len(in) > 10 {
		return nil, invalidParameter("Number of message attributes [%d] exceeds the allowed maximum [10].", len(in))
	}
	out := make(map[string]attributeValue, len(in))
	for name, v := range in {
		lower := strings.ToLower(name)
		if !attributeName.MatchString(name) || strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") ||
			strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return nil, invalidParameter("Message (user) attribute name '%s' is invalid. The attribute name can contain only alphanumeric characters, hyphens (-), underscores (_), and periods (.). The name can be up to 256 characters long. The name can't start with AWS. or Amazon. (or any variations in casing), and can't contain successive periods.", name)
		}
		a, err := checkAttribute("message (user)", name, service.Deref(v.DataType), v.StringValue, v.BinaryValue)
		if err != nil {
			return nil, err
		}
		out[name] = a
	}
	return out, nil
}

// checkAttribute validates one attribute value: kind says whose ("message
// (user)" or "message system") in the messages.
func checkAttribute(kind, name, dataType string, str *string, bin []byte) (attributeValue, error) {
	base, _, _ := strings.Cut(dataType, ".")
	a := attributeValue{DataType: dataType}
	switch base {
	case "String", "Number":
		if str == nil || *str == "" {
			return a, invalidParameter("The %s attribute '%s' must contain a non-empty message attribute value for message attribute type '%s'.", kind, name, base)
		}
		if base == "Number" {
			if _, err := strconv.ParseFloat(*str, 64); err != nil {
				return a, invalidParameter("Can't cast the value of %s attribute '%s' to a number.", kind, name)
			}
		}
		a.StringValue = *str
	case "Binary":
		if len(bin) == 0 {
			return a, invalidParameter("The %s attribute '%s' must contain a non-empty message attribute value for message attribute type 'Binary'.", kind, name)
		}
		a.BinaryValue = bin
	default:
		return a, invalidParameter("The type of %s attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", kind, name)
	}
	return a, nil
}

// systemAttributes converts and validates a message's system attributes:
// AWSTraceHeader is the only one.
func systemAttributes(in api.MessageBodySystemAttributeMap) (map[string]attributeValue, error) {
	out := make(map[string]attributeValue, len(in))
	for name, v := range in {
		if name != "AWSTraceHeader" {
			return nil, invalidParameter("Message system attribute name '%s' is invalid.", name)
		}
		if service.Deref(v.DataType) != "String" {
			return nil, invalidParameter("The message system attribute '%s' must be of type 'String'.", name)
		}
		a, err := checkAttribute("message system", name, "String", v.StringValue, v.BinaryValue)
		if err != nil {
			return nil, err
		}
		out[name] = a
	}
	return out, nil
}

// validBody reports whether body has only the characters SQS allows:
// #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF (the
// codec already made bad UTF-8 U+FFFD, and Go strings hold no surrogates).
func validBody(body string) bool {
	for _, r := range body {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}

func attributesSize(attrs map[string]attributeValue) int {
	n := 0
	for name, a := range attrs {
		n += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}

// checkSend validates m for q; q.mu is held.
func (q *queue) checkSend(m *sendInput) error {
	if m.body == "" {
		return missingParameter("MessageBody")
	}
	if !validBody(m.body) {
		return api.NewInvalidMessageContents("Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
	}
	limit, _ := strconv.Atoi(q.attr(attrMaximumMessageSize))
	if size := len(m.body) + attributesSize(m.attrs); size > limit {
		return invalidParameter("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", limit)
	}
	if m.delay != nil && (*m.delay < 0 || *m.delay > 900) {
		return invalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", *m.delay)
	}
	if !q.fifo() {
		if m.dedupID != "" {
			return invalidParameter("Value %s for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type.", m.dedupID)
		}
		return nil
	}
	if m.groupID == "" {
		return missingParameter("MessageGroupId")
	}
	if m.delay != nil && *m.delay != 0 {
		return invalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", *m.delay)
	}
	if m.dedupID == "" {
		if q.attr(attrContentBasedDeduplication) != "true" {
			return invalidParameter("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
		sum := sha256.Sum256([]byte(m.body))
		m.dedupID = hex.EncodeToString(sum[:])
	}
	if len(m.groupID) > 128 || len(m.dedupID) > 128 {
		return invalidParameter("Value for parameter MessageGroupId or MessageDeduplicationId is invalid. Reason: it must be at most 128 characters long.")
	}
	return nil
}

// send sends messages to q: the valid ones in one transaction, each
// answered with its result or its error.
func (s *Service) send(ctx context.Context, q *queue, ms []sendInput) ([]sent, []error, error) {
	results := make([]sent, len(ms))
	errs := make([]error, len(ms))
	q.mu.Lock()
	defer q.mu.Unlock()
	now := s.Now()
	q.forgetDedup(now)
	var added []*message
	var dedups []string
	for i := range ms {
		m := &ms[i]
		if errs[i] = q.checkSend(m); errs[i] != nil {
			continue
		}
		dedupID := m.dedupID
		if q.attr(attrDeduplicationScope) == "messageGroup" {
			dedupID = m.groupID + "\x00" + m.dedupID
		}
		if e, dup := q.dedup[dedupID]; dup && m.dedupID != "" {
			// A duplicate is acknowledged as the original, and dropped.
			results[i] = sent{id: e.MessageID, seq: e.Seq, fifo: true, md5Body: md5Hex(m.body),
				md5Attrs: md5OfAttributes(m.attrs), md5SysAttrs: md5OfAttributes(m.sysAttrs)}
			continue
		}
		delay := q.seconds(attrDelaySeconds)
		if m.delay != nil {
			delay = time.Duration(*m.delay) * time.Second
		}
		msg := &message{Seq: s.seq.Add(1), ID: s.IDs.UUID(), Body: m.body, Attributes: m.attrs, SystemAttributes: m.sysAttrs,
			MD5OfBody: md5Hex(m.body), MD5OfAttributes: md5OfAttributes(m.attrs), MD5OfSystemAttrs: md5OfAttributes(m.sysAttrs),
			SentAt: now, VisibleAt: now.Add(delay), GroupID: m.groupID, DeduplicationID: m.dedupID, SenderID: m.senderID}
		if m.dedupID != "" {
			q.dedup[dedupID] = dedupEntry{now, msg.ID, msg.Seq}
			dedups = append(dedups, dedupID)
		}
		added = append(added, msg)
		results[i] = sent{id: msg.ID, seq: msg.Seq, fifo: q.fifo(), md5Body: msg.MD5OfBody, md5Attrs: msg.MD5OfAttributes,
			md5SysAttrs: msg.MD5OfSystemAttrs}
	}
	if len(added) == 0 {
		return results, errs, nil
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		for _, m := range added {
			if _, err := store.PutJSON(tx, messagesTable, messageKey(q.key, m.Seq), m, store.AnyVersion); err != nil {
				return err
			}
		}
		for _, id := range dedups {
			if _, err := store.PutJSON(tx, dedupTable, dedupKey(q.key, id), q.dedup[id], store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, id := range dedups {
			delete(q.dedup, id)
		}
		return nil, nil, err
	}
	for _, m := range added {
		q.insert(m)
		q.counts.sent++
		q.counts.sentBytes += len(m.Body)
	}
	q.wake()
	return results, errs, nil
}

// senderID is the SenderId of messages the caller sends: its user or
// role's ID, or its account.
func senderID(ctx context.Context) string {
	c := overcast.CallerFrom(ctx)
	if c.UserID != "" {
		return c.UserID
	}
	return c.AccountID
}

func (s *Service) SendMessage(ctx context.Context, in *api.SendMessageRequest) (*api.SendMessageResult, error) {
	q, err := s.queueFor(ctx, in.QueueUrl, "SendMessage")
	if err != nil {
		return nil, err
	}
	m, err := sendInputOf(ctx, *in.MessageBody, in.MessageAttributes, in.MessageSystemAttributes, in.DelaySeconds, in.MessageGroupId, in.MessageDeduplicationId)
	if err != nil {
		return nil, err
	}
	results, errs, err := s.send(ctx, q, []sendInput{m})
	if err != nil {
		return nil, err
	}
	if errs[0] != nil {
		return nil, errs[0]
	}
	r := results[0]
	return &api.SendMessageResult{MessageId: &r.id, MD5OfMessageBody: &r.md5Body, MD5OfMessageAttributes: optional(r.md5Attrs),
		MD5OfMessageSystemAttributes: optional(r.md5SysAttrs), SequenceNumber: r.sequenceNumber()}, nil
}

func sendInputOf(ctx context.Context, body string, attrs api.MessageBodyAttributeMap, sysAttrs api.MessageBodySystemAttributeMap,
	delay *int32, groupID, dedupID *string) (sendInput, error) {
	a, err := userAttributes(attrs)
	if err != nil {
		return sendInput{}, err
	}
	sa, err := systemAttributes(sysAttrs)
	if err != nil {
		return sendInput{}, err
	}
	return sendInput{body: body, attrs: a, sysAttrs: sa, delay: delay, groupID: service.Deref(groupID), dedupID: service.Deref(dedupID),
		senderID: senderID(ctx)}, nil
}

func (r sent) sequenceNumber() *string {
	if !r.fifo {
		return nil
	}
	return new(fmt.Sprintf("%020d", r.seq))
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Service) SendMessageBatch(ctx context.Context, in *api.SendMessageBatchRequest) (*api.SendMessageBatchResult, error) {
	q, err := s.queueFor(ctx, in.QueueUrl, "SendMessage") // batches are authorized as their single action
	if err != nil {
		return nil, err
	}
	if err := checkBatch(in.Entries, func(e api.SendMessageBatchRequestEntry) *string { return e.Id }, "SendMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	total := 0
	for _, e := range in.Entries {
		total += len(service.Deref(e.MessageBody))
	}
	if total > maxMessageSize {
		return nil, api.NewBatchRequestTooLong("Batch requests cannot be longer than %d bytes. You have sent %d bytes.", maxMessageSize, total)
	}
	ms := make([]sendInput, len(in.Entries))
	errs := make([]error, len(in.Entries))
	var valid []sendInput
	var at []int
	for i, e := range in.Entries {
		ms[i], errs[i] = sendInputOf(ctx, *e.MessageBody, e.MessageAttributes, e.MessageSystemAttributes, e.DelaySeconds,
			e.MessageGroupId, e.MessageDeduplicationId)
		if errs[i] == nil {
			valid = append(valid, ms[i])
			at = append(at, i)
		}
	}
	results, sendErrs, err := s.send(ctx, q, valid)
	if err != nil {
		return nil, err
	}
	sentAt := make([]*sent, len(in.Entries))
	for j, i := range at {
		if errs[i] = sendErrs[j]; errs[i] == nil {
			sentAt[i] = &results[j]
		}
	}
	ok, failed := batchResults(in.Entries, errs, func(e api.SendMessageBatchRequestEntry) *string { return e.Id },
		func(i int) api.SendMessageBatchResultEntry {
			r := sentAt[i]
			return api.SendMessageBatchResultEntry{Id: in.Entries[i].Id, MessageId: &r.id, MD5OfMessageBody: &r.md5Body,
				MD5OfMessageAttributes: optional(r.md5Attrs), MD5OfMessageSystemAttributes: optional(r.md5SysAttrs),
				SequenceNumber: r.sequenceNumber()}
		})
	return &api.SendMessageBatchResult{Successful: ok, Failed: failed}, nil
}

var batchEntryID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// checkBatch validates a batch's entries as SQS does before running any.
func checkBatch[E any](entries []E, id func(E) *string, entryName string) error {
	if len(entries) == 0 {
		return api.NewEmptyBatchRequest("There should be at least one %s in the request.", entryName)
	}
	if len(entries) > 10 {
		return api.NewTooManyEntriesInBatchRequest("Maximum number of entries per request are 10. You have sent %d.", len(entries))
	}
	seen := map[string]bool{}
	for _, e := range entries {
		v := service.Deref(id(e))
		if !batchEntryID.MatchString(v) {
			return api.NewInvalidBatchEntryId("A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[v] {
			return api.NewBatchEntryIdsNotDistinct("Id %s repeated.", v)
		}
		seen[v] = true
	}
	return nil
}

// batchResults sorts a batch's entries into the successful ones (made by
// ok from the entry's index) and the failed ones: both lists are present,
// empty or not, as AWS answers.
func batchResults[E, R any](entries []E, errs []error, id func(E) *string, ok func(i int) R) ([]R, api.BatchResultErrorEntryList) {
	succeeded, failed := []R{}, api.BatchResultErrorEntryList{}
	for i, e := range entries {
		if errs[i] != nil {
			failed = append(failed, batchError(id(e), errs[i]))
			continue
		}
		succeeded = append(succeeded, ok(i))
	}
	return succeeded, failed
}

// batchError is a failed batch entry.
func batchError(id *string, err error) api.BatchResultErrorEntry {
	code, msg := "InternalError", "An internal error occurred."
	sender := false
	if e, ok := awsproto.AsAPIError(err); ok {
		code, msg, sender = e.ErrorCode(), e.ErrorMessage(), e.HTTPStatusCode() < 500
	}
	return api.BatchResultErrorEntry{Id: id, SenderFault: &sender, Code: &code, Message: optional(msg)}
}
