package sqs

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"overcast/internal/awsproto"
	"overcast/internal/policy"
)

// Queue attribute names.
const (
	attrDelaySeconds                  = "DelaySeconds"
	attrMaximumMessageSize            = "MaximumMessageSize"
	attrMessageRetentionPeriod        = "MessageRetentionPeriod"
	attrPolicy                        = "Policy"
	attrReceiveMessageWaitTimeSeconds = "ReceiveMessageWaitTimeSeconds"
	attrVisibilityTimeout             = "VisibilityTimeout"
	attrRedrivePolicy                 = "RedrivePolicy"
	attrRedriveAllowPolicy            = "RedriveAllowPolicy"
	attrFifoQueue                     = "FifoQueue"
	attrContentBasedDeduplication     = "ContentBasedDeduplication"
	attrDeduplicationScope            = "DeduplicationScope"
	attrFifoThroughputLimit           = "FifoThroughputLimit"
	attrKmsMasterKeyID                = "KmsMasterKeyId"
	attrKmsDataKeyReusePeriodSeconds  = "KmsDataKeyReusePeriodSeconds"
	attrSqsManagedSseEnabled          = "SqsManagedSseEnabled"

	attrApproximateNumberOfMessages           = "ApproximateNumberOfMessages"
	attrApproximateNumberOfMessagesNotVisible = "ApproximateNumberOfMessagesNotVisible"
	attrApproximateNumberOfMessagesDelayed    = "ApproximateNumberOfMessagesDelayed"
	attrCreatedTimestamp                      = "CreatedTimestamp"
	attrLastModifiedTimestamp                 = "LastModifiedTimestamp"
	attrQueueArn                              = "QueueArn"
)

// maxMessageSize is SQS's limit on a message's body and attributes, and
// the default MaximumMessageSize, since 2025.
const maxMessageSize = 1 << 20

// intRange is the range an integer attribute takes.
type intRange struct{ min, max int }

var intAttributes = map[string]intRange{
	attrDelaySeconds:                  {0, 900},
	attrMaximumMessageSize:            {1024, maxMessageSize},
	attrMessageRetentionPeriod:        {60, 1209600},
	attrReceiveMessageWaitTimeSeconds: {0, 20},
	attrVisibilityTimeout:             {0, 43200},
	attrKmsDataKeyReusePeriodSeconds:  {60, 86400},
}

// defaults are the attributes every queue has until set.
var defaults = map[string]string{
	attrDelaySeconds:                  "0",
	attrMaximumMessageSize:            strconv.Itoa(maxMessageSize),
	attrMessageRetentionPeriod:        "345600",
	attrReceiveMessageWaitTimeSeconds: "0",
	attrVisibilityTimeout:             "30",
	attrSqsManagedSseEnabled:          "true",
}

// fifoDefaults are the attributes every FIFO queue has until set.
var fifoDefaults = map[string]string{
	attrFifoQueue:                 "true",
	attrContentBasedDeduplication: "false",
	attrDeduplicationScope:        "queue",
	attrFifoThroughputLimit:       "perQueue",
}

// readOnly are the attributes SQS reports but nobody sets.
var readOnly = []string{
	attrApproximateNumberOfMessages, attrApproximateNumberOfMessagesNotVisible, attrApproximateNumberOfMessagesDelayed,
	attrCreatedTimestamp, attrLastModifiedTimestamp, attrQueueArn,
}

func invalidValue(name string) error {
	return &awsproto.Error{Code: "InvalidAttributeValue", Status: 400, Message: "Invalid value for the parameter " + name + "."}
}

func invalidParameter(format string, args ...any) error {
	return &awsproto.Error{Code: "InvalidParameterValue", Status: 400, Message: fmt.Sprintf(format, args...)}
}

// redrivePolicy is a queue's RedrivePolicy.
type redrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

// parseRedrivePolicy reads a RedrivePolicy; AWS takes maxReceiveCount as
// a number or a string.
func parseRedrivePolicy(s string) (redrivePolicy, error) {
	var raw struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return redrivePolicy{}, invalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for RedrivePolicy.", s)
	}
	n, err := strconv.Atoi(strings.Trim(string(raw.MaxReceiveCount), `"`))
	if raw.DeadLetterTargetArn == "" || err != nil {
		return redrivePolicy{}, invalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map of deadLetterTargetArn and maxReceiveCount.", s)
	}
	if n < 1 || n > 1000 {
		return redrivePolicy{}, invalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: %d, valid values are from 1 to 1000 both inclusive.", s, n)
	}
	return redrivePolicy{raw.DeadLetterTargetArn, n}, nil
}

// redriveAllowPolicy is a queue's RedriveAllowPolicy: which source queues
// may use it as their dead-letter queue.
type redriveAllowPolicy struct {
	RedrivePermission string   `json:"redrivePermission"`
	SourceQueueArns   []string `json:"sourceQueueArns"`
}

func parseRedriveAllowPolicy(s string) (redriveAllowPolicy, error) {
	var p redriveAllowPolicy
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return p, invalidParameter("Value %s for parameter RedriveAllowPolicy is invalid. Reason: Invalid value for RedriveAllowPolicy.", s)
	}
	switch {
	case p.RedrivePermission == "byQueue" && (len(p.SourceQueueArns) == 0 || len(p.SourceQueueArns) > 10):
		return p, invalidParameter("Value %s for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the redrive allow policy, as it's in an unsupported format.", s)
	case p.RedrivePermission == "allowAll" || p.RedrivePermission == "denyAll" || p.RedrivePermission == "byQueue":
		return p, nil
	}
	return p, invalidParameter("Value %s for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the redrive allow policy, as it's in an unsupported format.", s)
}

// allows reports whether the queue source may send its dead letters here.
func (p redriveAllowPolicy) allows(source string) bool {
	switch p.RedrivePermission {
	case "denyAll":
		return false
	case "byQueue":
		for _, a := range p.SourceQueueArns {
			if a == source {
				return true
			}
		}
		return false
	}
	return true
}

// checkAttributes validates attributes being set on a queue (fifo says
// which kind), as AWS does one by one; creating says whether the queue is
// being created (FifoQueue can be set only then).
func (s *Service) checkAttributes(attrs map[string]string, fifo, creating bool, arn string) error {
	for name, v := range attrs {
		if r, ok := intAttributes[name]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < r.min || n > r.max {
				return invalidValue(name)
			}
			continue
		}
		switch name {
		case attrPolicy:
			if v == "" {
				continue
			}
			if _, err := policy.ValidateResource(v, policy.Scope{Vendor: "sqs"}); err != nil {
				return invalidParameter("Value %s for parameter Policy is invalid. Reason: %s", v, strings.TrimPrefix(err.Error(), "policy: "))
			}
		case attrRedrivePolicy:
			if v == "" {
				continue
			}
			if err := s.checkRedrivePolicy(v, fifo, arn); err != nil {
				return err
			}
		case attrRedriveAllowPolicy:
			if v == "" {
				continue
			}
			if _, err := parseRedriveAllowPolicy(v); err != nil {
				return err
			}
		case attrSqsManagedSseEnabled, attrContentBasedDeduplication, attrFifoQueue:
			if v != "true" && v != "false" {
				return invalidValue(name)
			}
			if name == attrContentBasedDeduplication && !fifo {
				return invalidAttributeName(name)
			}
			if name == attrFifoQueue && (!creating || (v == "true") != fifo) {
				return invalidValue(name)
			}
		case attrDeduplicationScope, attrFifoThroughputLimit:
			if !fifo {
				return invalidAttributeName(name)
			}
			if v != "queue" && v != "messageGroup" && name == attrDeduplicationScope ||
				v != "perQueue" && v != "perMessageGroupId" && name == attrFifoThroughputLimit {
				return invalidValue(name)
			}
		case attrKmsMasterKeyID:
		default:
			return invalidAttributeName(name)
		}
	}
	return nil
}

func invalidAttributeName(name string) error {
	return &awsproto.Error{Code: "InvalidAttributeName", Status: 400, Message: "Unknown Attribute " + name + "."}
}

// checkRedrivePolicy validates a RedrivePolicy for the queue arn: the
// dead-letter queue exists, is of the same kind and lets arn use it.
func (s *Service) checkRedrivePolicy(v string, fifo bool, arn string) error {
	p, err := parseRedrivePolicy(v)
	if err != nil {
		return err
	}
	dlq := s.queueByARN(p.DeadLetterTargetArn)
	if dlq == nil {
		return invalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.", v)
	}
	dlq.mu.Lock()
	dlqFIFO, allow := dlq.fifo(), dlq.rec.Attributes[attrRedriveAllowPolicy]
	dlq.mu.Unlock()
	if dlqFIFO != fifo {
		return invalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source..", v)
	}
	if allow != "" {
		if p, _ := parseRedriveAllowPolicy(allow); !p.allows(arn) {
			return invalidParameter("Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter target owner/queue not allowed to be used as a dead-letter target.", v)
		}
	}
	return nil
}

// sameAttributes reports the first attribute of want that differs from
// what the queue has (defaults included), or "".
func sameAttributes(have, want map[string]string) string {
	for name, v := range want {
		if have[name] != v {
			return name
		}
	}
	return ""
}

// withDefaults returns attrs over the defaults of a queue of its kind.
func withDefaults(attrs map[string]string, fifo bool) map[string]string {
	all := maps.Clone(defaults)
	if fifo {
		maps.Copy(all, fifoDefaults)
	}
	maps.Copy(all, attrs)
	for name, v := range all {
		if v == "" && (name == attrPolicy || name == attrRedrivePolicy || name == attrRedriveAllowPolicy) {
			delete(all, name) // set to "" is removed
		}
	}
	return all
}
