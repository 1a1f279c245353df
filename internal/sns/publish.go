package sns

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	api "overcast/internal/api/sns"
	"overcast/internal/store"
)

// publication is one message as published, before it is fanned out.
type publication struct {
	Message, Subject string
	// Structure is MessageStructure=json: Message is an object of
	// per-protocol messages.
	Structure                bool
	Attributes               map[string]Attribute
	GroupID, DeduplicationID string
}

// delivery is a message on its way to one subscription: the record the
// delivery controller drives until it is delivered or dead-lettered.
type delivery struct {
	Type            string               `json:"type"` // Notification or SubscriptionConfirmation
	SubscriptionARN string               `json:"subscriptionArn"`
	TopicARN        string               `json:"topicArn"`
	MessageID       string               `json:"messageId"`
	Message         string               `json:"message"` // this subscription's protocol's message
	Subject         string               `json:"subject,omitempty"`
	Attributes      map[string]Attribute `json:"attributes,omitempty"`
	Timestamp       time.Time            `json:"timestamp"`
	GroupID         string               `json:"groupId,omitempty"`
	DeduplicationID string               `json:"deduplicationId,omitempty"`
	Sequence        string               `json:"sequence,omitempty"`
	Token           string               `json:"token,omitempty"`
	// SignatureVersion and TopicDeliveryPolicy are the topic's when the
	// message was published.
	SignatureVersion    string `json:"signatureVersion"`
	TopicDeliveryPolicy string `json:"topicDeliveryPolicy,omitempty"`
	Attempts            int    `json:"attempts,omitempty"`
	// NextAttempt is when to try again after a failure.
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	LastError   string    `json:"lastError,omitempty"`
	// DeadLettering is set once retries are exhausted and the message is
	// going to the subscription's dead-letter queue.
	DeadLettering bool `json:"deadLettering,omitempty"`
}

const (
	typeNotification = "Notification"
	typeConfirmation = "SubscriptionConfirmation"
)

func deliveryKey(messageID, subARN string) string {
	return messageID + "/" + subARN[strings.LastIndexByte(subARN, ':')+1:]
}

// fifoPrefix is the key prefix of a FIFO subscription's deliveries of one
// message group: their sequence numbers follow, so the first key is the
// one to deliver next, and a group's messages go one at a time, in order.
func fifoPrefix(subARN, group string) string {
	return "fifo/" + subARN[strings.LastIndexByte(subARN, ':')+1:] + "/" + hex.EncodeToString([]byte(group)) + "/"
}

func confirmationKey(sub *subscription) string {
	return deliveryKey("confirm-"+sub.Token[:16], sub.ARN)
}

// queueConfirmation writes the SubscriptionConfirmation an endpoint
// subscription gets.
func (s *Service) queueConfirmation(tx store.Tx, t *topic, sub *subscription) error {
	d := delivery{Type: typeConfirmation, SubscriptionARN: sub.ARN, TopicARN: t.ARN, MessageID: s.IDs.UUID(),
		Message:   fmt.Sprintf("You have chosen to subscribe to the topic %s.\nTo confirm the subscription, visit the SubscribeURL included in this message.", t.ARN),
		Timestamp: s.Now(), Token: sub.Token, SignatureVersion: t.signatureVersion()}
	_, err := store.PutJSON(tx, deliveriesTable, confirmationKey(sub), d, store.AnyVersion)
	return err
}

func (s *Service) Publish(ctx context.Context, in *api.PublishInput) (*api.PublishResponse, error) {
	arn, err := publishTarget(in)
	if err != nil {
		return nil, err
	}
	p, err := publicationOf(in.Message, in.Subject, in.MessageStructure, in.MessageAttributes, in.MessageGroupId, in.MessageDeduplicationId)
	if err != nil {
		return nil, err
	}
	t, err := s.viewTopic(ctx, arn, "Publish")
	if err != nil {
		return nil, err
	}
	id, seq, err := s.publish(ctx, t, p)
	if err != nil {
		return nil, err
	}
	return &api.PublishResponse{MessageId: &id, SequenceNumber: optional(seq)}, nil
}

// PublishAs publishes m to the topic topicARN as the AWS service
// principal (events.amazonaws.com) on behalf of sourceARN: the topic
// policy must allow it sns:Publish, even in the topic owner's account.
func (s *Service) PublishAs(ctx context.Context, principal, sourceARN, topicARN string, m Message) (string, error) {
	p := publication{Message: m.Message, Subject: m.Subject, Attributes: m.Attributes, GroupID: m.GroupID, DeduplicationID: m.DeduplicationID}
	if err := checkPublication(&p); err != nil {
		return "", err
	}
	var t *topic
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		t, _, err = getTopic(tx, topicARN)
		return err
	})
	if err != nil {
		return "", err
	}
	if !serviceMay(t, principal, sourceARN) {
		return "", errAuthorization("Publish")
	}
	id, _, err := s.publish(ctx, t, p)
	return id, err
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func publishTarget(in *api.PublishInput) (string, error) {
	switch {
	case in.TopicArn != nil && *in.TopicArn != "":
		return *in.TopicArn, nil
	case in.TargetArn != nil && *in.TargetArn != "":
		return *in.TargetArn, nil
	case in.PhoneNumber != nil:
		return "", errInvalid("PhoneNumber Reason: overcast does not send SMS")
	}
	return "", errInvalid("TopicArn or TargetArn Reason: no value for required parameter")
}

// publicationOf validates what Publish and PublishBatch entries carry.
func publicationOf(message, subject, structure *string, attrs api.MessageAttributeMap, group, dedup *string) (publication, error) {
	p := publication{Message: *message, Subject: deref(subject), GroupID: deref(group), DeduplicationID: deref(dedup)}
	if subject != nil && *subject == "" {
		return p, errInvalid("Subject")
	}
	if s := deref(structure); s != "" {
		if s != "json" {
			return p, errInvalid("MessageStructure")
		}
		p.Structure = true
	}
	var err error
	if p.Attributes, err = messageAttributes(attrs); err != nil {
		return p, err
	}
	return p, checkPublication(&p)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// messageAttributes validates message attributes as SNS does; their
// faults are ParameterValueInvalid, in SNS's words.
func messageAttributes(in api.MessageAttributeMap) (map[string]Attribute, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]Attribute, len(in))
	for name, a := range in {
		attr := Attribute{DataType: deref(a.DataType), StringValue: deref(a.StringValue), BinaryValue: a.BinaryValue}
		if err := checkAttributeName(name); err != nil {
			return nil, err
		}
		if err := checkAttribute(name, attr, a.StringValue != nil); err != nil {
			return nil, err
		}
		out[name] = attr
	}
	return out, nil
}

func errAttribute(format string, args ...any) error {
	return api.NewInvalidParameterValueException(format, args...)
}

func checkAttributeName(name string) error {
	switch {
	case len(name) > 256:
		return errAttribute("Length of message attribute name must be less than 256 bytes.")
	case strings.HasPrefix(name, "."):
		return errAttribute("Invalid message attribute name starting with character '.' was found.")
	case strings.HasSuffix(name, "."):
		return errAttribute("Invalid message attribute name ending with character '.' was found.")
	case strings.Contains(name, ".."):
		return errAttribute("Message attribute name can not have successive '.' character.")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return errAttribute("Invalid non-alphanumeric character '#x%X' was found in the message attribute name. "+
				"Can only include alphanumeric characters, hyphens, underscores, or dots.", r)
		}
	}
	return nil
}

// attributeType is a DataType: String, Number or Binary, or String.Array,
// each possibly with a custom suffix.
var attributeType = regexp.MustCompile(`^(String|Number|Binary)(\..+)?$`)

func checkAttribute(name string, a Attribute, hasString bool) error {
	if !attributeType.MatchString(a.DataType) {
		return errAttribute("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
	}
	binary := strings.HasPrefix(a.DataType, "Binary")
	switch {
	case !hasString && len(a.BinaryValue) == 0:
		return errAttribute("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
	case binary && hasString && a.BinaryValue == nil:
		return errAttribute("The message attribute '%s' with type '%s' must use field 'Binary'.", name, a.DataType)
	case !binary && !hasString:
		return errAttribute("The message attribute '%s' with type '%s' must use field 'String'.", name, a.DataType)
	case binary && len(a.BinaryValue) == 0, !binary && a.StringValue == "":
		return errAttribute("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
	}
	switch {
	case strings.HasPrefix(a.DataType, "Number"):
		if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
			return errAttribute("Could not cast message attribute '%s' value to number.", name)
		}
	case a.DataType == "String.Array":
		var list []any
		if err := json.Unmarshal([]byte(a.StringValue), &list); err != nil {
			return errAttribute("The message attribute '%s' with type 'String.Array' has an invalid value: must be a JSON array.", name)
		}
		for _, e := range list {
			switch e.(type) {
			case map[string]any, []any:
				return errAttribute("The message attribute '%s' with type 'String.Array' has an invalid value: "+
					"arrays may only hold strings, numbers, true, false and null.", name)
			}
		}
	}
	return nil
}

// checkPublication validates the message, its subject and structure.
func checkPublication(p *publication) error {
	if p.Message == "" {
		return errInvalid("Empty message")
	}
	if p.size() > maxMessageBytes {
		return errInvalid("Message too long")
	}
	if p.Subject != "" && (len(p.Subject) > 100 || !utf8.ValidString(p.Subject) || strings.ContainsAny(p.Subject, "\r\n") || !isPrintableASCII(p.Subject)) {
		return errInvalid("Subject")
	}
	if p.Structure {
		var per map[string]any
		if err := json.Unmarshal([]byte(p.Message), &per); err != nil {
			return errInvalid("Message Structure - JSON message body failed to parse")
		}
		if _, ok := per["default"].(string); !ok {
			return errInvalid("Message Structure - No default entry in JSON message body")
		}
	}
	return nil
}

// size is what counts against SNS's message size: the message and its
// attributes' names, types and values.
func (p *publication) size() int {
	n := len(p.Message)
	for name, a := range p.Attributes {
		n += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// messageFor is the message a subscription of protocol gets: with
// MessageStructure=json its protocol's entry, or the default one.
func (p *publication) messageFor(protocol string) string {
	if !p.Structure {
		return p.Message
	}
	var per map[string]any
	_ = json.Unmarshal([]byte(p.Message), &per) // checked when published
	if m, ok := per[protocol].(string); ok {
		return m
	}
	m, _ := per["default"].(string)
	return m
}

// checkFIFO applies the topic's type to p: FIFO topics need a group and a
// deduplication ID (given, or the content's hash).
func checkFIFO(t *topic, p *publication) error {
	if !t.fifo() {
		if p.DeduplicationID != "" {
			return errInvalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
		}
		return nil
	}
	if p.GroupID == "" {
		return errInvalid("The MessageGroupId parameter is required for FIFO topics")
	}
	if p.DeduplicationID == "" {
		if t.Attributes[attrContentBasedDeduplication] != "true" {
			return errInvalid("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
		sum := sha256.Sum256([]byte(p.Message))
		p.DeduplicationID = hex.EncodeToString(sum[:])
	}
	return nil
}

// dedupRecord remembers a FIFO message for the deduplication window.
type dedupRecord struct {
	MessageID string    `json:"messageId"`
	Sequence  string    `json:"sequence"`
	Expires   time.Time `json:"expires"`
}

// publish accepts p for t: in one transaction it writes a delivery for
// every confirmed subscription whose filter policy matches.
func (s *Service) publish(ctx context.Context, t *topic, p publication) (messageID, sequence string, err error) {
	if err := checkFIFO(t, &p); err != nil {
		return "", "", err
	}
	now := s.Now()
	var keys []string
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		keys = nil
		messageID, sequence = s.IDs.UUID(), ""
		cur, version, err := getTopic(tx, t.ARN)
		if err != nil {
			return err
		}
		if cur.fifo() {
			var dup dedupRecord
			dedupKey := cur.ARN + "/" + p.DeduplicationID
			_, err := store.GetJSON(tx, dedupTable, dedupKey, &dup)
			if err == nil && now.Before(dup.Expires) {
				messageID, sequence = dup.MessageID, dup.Sequence
				return nil
			}
			cur.Sequence++
			sequence = fmt.Sprintf("%020d", cur.Sequence)
			if _, err := store.PutJSON(tx, topicsTable, topicStoreKey(cur), cur, version); err != nil {
				return err
			}
			rec := dedupRecord{MessageID: messageID, Sequence: sequence, Expires: now.Add(dedupWindow)}
			if _, err := store.PutJSON(tx, dedupTable, dedupKey, rec, store.AnyVersion); err != nil {
				return err
			}
		}
		return store.ScanJSON(tx, subscriptionsTable, store.ScanOptions{Prefix: cur.ARN + ":"}, func(_ string, sub subscription, _ int64) error {
			if !sub.Confirmed {
				return nil
			}
			message := p.messageFor(sub.Protocol)
			if !filterAccepts(&sub, message, p.Attributes) {
				return nil
			}
			d := delivery{Type: typeNotification, SubscriptionARN: sub.ARN, TopicARN: cur.ARN, MessageID: messageID,
				Message: message, Subject: p.Subject, Timestamp: now, GroupID: p.GroupID, DeduplicationID: p.DeduplicationID,
				Sequence: sequence, SignatureVersion: cur.signatureVersion(), TopicDeliveryPolicy: cur.Attributes[attrDeliveryPolicy]}
			if !p.Structure {
				d.Attributes = p.Attributes
			}
			key := deliveryKey(messageID, sub.ARN)
			if sequence != "" {
				key = fifoPrefix(sub.ARN, p.GroupID) + sequence
			}
			keys = append(keys, key)
			_, err := store.PutJSON(tx, deliveriesTable, key, d, store.AnyVersion)
			return err
		})
	})
	if err != nil {
		return "", "", err
	}
	s.deliveries.Enqueue(keys...)
	return messageID, sequence, nil
}

func topicStoreKey(t *topic) string {
	sc, name, _ := topicKey(t.ARN)
	return sc.Key(name)
}

// PublishBatch publishes up to ten messages. As on AWS, an invalid entry
// fails the whole request rather than landing in Failed.
func (s *Service) PublishBatch(ctx context.Context, in *api.PublishBatchInput) (*api.PublishBatchResponse, error) {
	entries := in.PublishBatchRequestEntries
	switch {
	case len(entries) == 0:
		return nil, api.NewEmptyBatchRequestException("The batch request doesn't contain any entries")
	case len(entries) > maxBatchEntries:
		return nil, api.NewTooManyEntriesInBatchRequestException("The batch request contains more entries than permissible.")
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[*e.Id] {
			return nil, api.NewBatchEntryIdsNotDistinctException("Two or more batch entries in the request have the same Id.")
		}
		if !batchID.MatchString(*e.Id) {
			return nil, api.NewInvalidBatchEntryIdException("A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		seen[*e.Id] = true
	}
	t, err := s.viewTopic(ctx, *in.TopicArn, "Publish")
	if err != nil {
		return nil, err
	}
	pubs := make([]publication, len(entries))
	total := 0
	for i, e := range entries {
		if pubs[i], err = publicationOf(e.Message, e.Subject, e.MessageStructure, e.MessageAttributes, e.MessageGroupId, e.MessageDeduplicationId); err != nil {
			return nil, err
		}
		if err := checkFIFO(t, &pubs[i]); err != nil {
			return nil, err
		}
		total += pubs[i].size()
	}
	if total > maxMessageBytes {
		return nil, api.NewBatchRequestTooLongException("The length of all the messages put together is more than the limit.")
	}
	out := &api.PublishBatchResponse{Successful: []api.PublishBatchResultEntry{}, Failed: []api.BatchResultErrorEntry{}}
	for i, e := range entries {
		id, seq, err := s.publish(ctx, t, pubs[i])
		if err != nil {
			return nil, err
		}
		out.Successful = append(out.Successful, api.PublishBatchResultEntry{Id: e.Id, MessageId: &id, SequenceNumber: optional(seq)})
	}
	return out, nil
}

var batchID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
