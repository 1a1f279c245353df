package sns

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"overcast/internal/controller"
	"overcast/internal/store"
)

// reconcileDelivery makes one attempt at a delivery: done, or retried
// when its delivery policy says, or dead-lettered once retries run out.
func (s *Service) reconcileDelivery(ctx context.Context, key string) (controller.Result, error) {
	var d delivery
	var sub subscription
	var version int64
	gone := false
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if version, err = store.GetJSON(tx, deliveriesTable, key, &d); err != nil {
			return err
		}
		_, err = store.GetJSON(tx, subscriptionsTable, d.SubscriptionARN, &sub)
		if errors.Is(err, store.ErrNotFound) {
			gone, err = true, nil
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if gone || (d.Type == typeConfirmation && sub.Confirmed) {
		// Unsubscribed (or its topic deleted) before delivery: AWS stops
		// delivering to a deleted subscription too. A confirmation is
		// moot once the subscription is confirmed.
		return controller.Result{}, s.finish(ctx, key, version, nil)
	}
	if prefix, ok := fifoGroup(key); ok {
		first, err := s.firstKey(ctx, prefix)
		if err != nil || first != key {
			return controller.Result{}, err // the one before enqueues this one when done
		}
	}
	if now := s.Now(); now.Before(d.NextAttempt) {
		return controller.At(d.NextAttempt), nil
	}
	if d.DeadLettering {
		return s.deadLetter(ctx, key, version, &d, &sub)
	}
	attemptErr := s.attempt(ctx, &d, &sub)
	if attemptErr == nil {
		return controller.Result{}, s.finish(ctx, key, version, nil)
	}
	d.Attempts++
	d.LastError = attemptErr.Error()
	delay, retry := retryPolicyOf(&sub, d.TopicDeliveryPolicy).delay(d.Attempts)
	if !retry || errors.Is(attemptErr, ErrRejected) {
		d.DeadLettering = true
		return s.deadLetter(ctx, key, version, &d, &sub)
	}
	d.NextAttempt = s.Now().Add(delay)
	if err := s.save(ctx, key, version, &d); err != nil {
		return controller.Result{}, err
	}
	return controller.At(d.NextAttempt), nil
}

func (s *Service) save(ctx context.Context, key string, version int64, d *delivery) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, deliveriesTable, key, d, version)
		return err
	})
}

// finish removes a delivery, keeping it among the failed ones when failed
// is set.
func (s *Service) finish(ctx context.Context, key string, version int64, failed *delivery) error {
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if failed != nil {
			if _, err := store.PutJSON(tx, failedTable, key, failed, store.AnyVersion); err != nil {
				return err
			}
		}
		err := tx.Delete(deliveriesTable, key, version)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // changed meanwhile: the next reconcile sees it
	}
	if prefix, ok := fifoGroup(key); ok && err == nil {
		next, err := s.firstKey(ctx, prefix)
		if next != "" {
			s.deliveries.Enqueue(next)
		}
		return err
	}
	return err
}

// fifoGroup is the prefix of a FIFO delivery's message group.
func fifoGroup(key string) (string, bool) {
	if !strings.HasPrefix(key, "fifo/") {
		return "", false
	}
	return key[:strings.LastIndexByte(key, '/')+1], true
}

// firstKey is the first delivery under prefix, or "".
func (s *Service) firstKey(ctx context.Context, prefix string) (string, error) {
	var keys []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		keys, err = store.Keys(tx, deliveriesTable, store.ScanOptions{Prefix: prefix, Limit: 1})
		return err
	})
	if len(keys) == 0 {
		return "", err
	}
	return keys[0], err
}

// deadLetter sends a delivery whose retries ran out to the subscription's
// dead-letter queue; without one (or when the queue refuses it for good),
// the delivery is kept among the failed ones and logged.
func (s *Service) deadLetter(ctx context.Context, key string, version int64, d *delivery, sub *subscription) (controller.Result, error) {
	rp, err := parseRedrivePolicy(sub.Attributes[attrRedrivePolicy])
	if sub.Attributes[attrRedrivePolicy] == "" || err != nil || s.queues == nil {
		s.Logger.Warn("sns: delivery failed, no dead-letter queue", "subscription", sub.ARN, "messageId", d.MessageID, "error", d.LastError)
		return controller.Result{}, s.finish(ctx, key, version, d)
	}
	body, err := s.payload(ctx, d, sub)
	if err != nil {
		return controller.Result{}, err
	}
	attrs := map[string]Attribute{
		"ErrorCode":    {DataType: "String", StringValue: "DeliveryFailed"},
		"ErrorMessage": {DataType: "String", StringValue: truncate(d.LastError, 1000)},
		"TopicArn":     {DataType: "String", StringValue: d.TopicARN},
	}
	m := QueueMessage{Body: body, Attributes: attrs}
	if strings.HasSuffix(rp.DeadLetterTargetArn, ".fifo") {
		m.GroupID, m.DeduplicationID = d.GroupID, d.MessageID
	}
	_, err = s.queues.SendAs(ctx, ServicePrincipal, d.TopicARN, rp.DeadLetterTargetArn, m)
	switch {
	case err == nil:
		return controller.Result{}, s.finish(ctx, key, version, nil)
	case errors.Is(err, ErrRejected):
		s.Logger.Warn("sns: dead-letter queue refused a failed delivery", "subscription", sub.ARN, "messageId", d.MessageID, "error", err)
		d.LastError += "; dead-letter queue: " + err.Error()
		return controller.Result{}, s.finish(ctx, key, version, d)
	}
	return controller.Result{}, s.save(ctx, key, version, d) // retried with the controller's back-off
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// attempt delivers d to sub once.
func (s *Service) attempt(ctx context.Context, d *delivery, sub *subscription) error {
	switch sub.Protocol {
	case protoSQS:
		return s.sendToQueue(ctx, d, sub)
	case protoHTTP, protoHTTPS:
		return s.post(ctx, d, sub)
	case protoEmail, protoEmailJSON:
		return s.recordEmail(ctx, d, sub)
	}
	return fmt.Errorf("%w: protocol %s", ErrRejected, sub.Protocol)
}

func raw(sub *subscription) bool { return sub.Attributes[attrRawMessageDelivery] == "true" }

// payload is the body a subscription receives: the bare message with raw
// delivery, else the signed JSON envelope.
func (s *Service) payload(ctx context.Context, d *delivery, sub *subscription) (string, error) {
	if raw(sub) && d.Type == typeNotification {
		return d.Message, nil
	}
	e, err := s.envelopeOf(ctx, d)
	if err != nil {
		return "", err
	}
	return e.encode()
}

const maxQueueAttributes = 10

func (s *Service) sendToQueue(ctx context.Context, d *delivery, sub *subscription) error {
	if s.queues == nil {
		return fmt.Errorf("%w: no SQS to deliver to", ErrRejected)
	}
	body, err := s.payload(ctx, d, sub)
	if err != nil {
		return err
	}
	// A FIFO topic delivers to standard queues too, best effort: the group
	// travels (fair queues take it), the deduplication ID only to FIFO ones.
	m := QueueMessage{Body: body, GroupID: d.GroupID}
	if strings.HasSuffix(sub.Endpoint, ".fifo") {
		m.DeduplicationID = d.DeduplicationID
	}
	if raw(sub) {
		if len(d.Attributes) > maxQueueAttributes {
			return fmt.Errorf("%w: raw delivery of %d message attributes: SQS takes at most %d", ErrRejected, len(d.Attributes), maxQueueAttributes)
		}
		m.Attributes = d.Attributes
	}
	_, err = s.queues.SendAs(ctx, ServicePrincipal, d.TopicARN, sub.Endpoint, m)
	return err
}

// post delivers to an HTTP/HTTPS endpoint as SNS does; any status from
// 200 to 499 counts as delivered.
func (s *Service) post(ctx context.Context, d *delivery, sub *subscription) error {
	body, err := s.payload(ctx, d, sub)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRejected, err)
	}
	h := req.Header
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("User-Agent", "Amazon Simple Notification Service Agent")
	h.Set("x-amz-sns-message-type", d.Type)
	h.Set("x-amz-sns-message-id", d.MessageID)
	h.Set("x-amz-sns-topic-arn", d.TopicARN)
	if d.Type == typeNotification {
		h.Set("x-amz-sns-subscription-arn", sub.ARN)
		if raw(sub) {
			h.Set("x-amz-sns-rawdelivery", "true")
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 499 {
		return fmt.Errorf("sns: %s answered %s", sub.Endpoint, resp.Status)
	}
	return nil
}

// email is what an email subscription was "sent", as recorded.
type email struct {
	Time            time.Time `json:"time"`
	To              string    `json:"to"`
	Protocol        string    `json:"protocol"`
	Type            string    `json:"type"`
	TopicARN        string    `json:"topicArn"`
	SubscriptionARN string    `json:"subscriptionArn"`
	MessageID       string    `json:"messageId"`
	Subject         string    `json:"subject"`
	Body            string    `json:"body"`
}

func (s *Service) recordEmail(ctx context.Context, d *delivery, sub *subscription) error {
	e := email{Time: s.Now(), To: sub.Endpoint, Protocol: sub.Protocol, Type: d.Type, TopicARN: d.TopicARN,
		SubscriptionARN: sub.ARN, MessageID: d.MessageID, Subject: d.Subject}
	switch {
	case sub.Protocol == protoEmailJSON:
		body, err := s.payload(ctx, d, sub)
		if err != nil {
			return err
		}
		e.Body = body
	case d.Type == typeConfirmation:
		e.Subject = "AWS Notification - Subscription Confirmation"
		e.Body = fmt.Sprintf("You have chosen to subscribe to the topic: \n%s\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary): \n%s\n",
			d.TopicARN, s.subscribeURL(d))
	default:
		if e.Subject == "" {
			e.Subject = "AWS Notification Message"
		}
		e.Body = d.Message + "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n" +
			s.unsubscribeURL(sub.ARN) + "\n"
	}
	if e.Type == typeConfirmation && e.Subject == "" {
		e.Subject = "AWS Notification - Subscription Confirmation"
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		// Keyed in the order sent: emails are never deleted, so the count
		// only grows.
		n, err := tx.Count(emailsTable, "")
		if err != nil {
			return err
		}
		_, err = store.PutJSON(tx, emailsTable, fmt.Sprintf("%016d", n+1), e, 0)
		return err
	})
}

// envelope is the JSON SNS wraps a message in, fields in AWS's order.
type envelope struct {
	Type              string                    `json:"Type"`
	MessageID         string                    `json:"MessageId"`
	Token             string                    `json:"Token,omitempty"`
	SequenceNumber    string                    `json:"SequenceNumber,omitempty"`
	TopicArn          string                    `json:"TopicArn"`
	Subject           string                    `json:"Subject,omitempty"`
	Message           string                    `json:"Message"`
	SubscribeURL      string                    `json:"SubscribeURL,omitempty"`
	Timestamp         string                    `json:"Timestamp"`
	SignatureVersion  string                    `json:"SignatureVersion"`
	Signature         string                    `json:"Signature"`
	SigningCertURL    string                    `json:"SigningCertURL"`
	UnsubscribeURL    string                    `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]envelopeAttrib `json:"MessageAttributes,omitempty"`
}

type envelopeAttrib struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

func (e *envelope) encode() (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// envelopeOf builds and signs d's envelope.
func (s *Service) envelopeOf(ctx context.Context, d *delivery) (*envelope, error) {
	e := &envelope{Type: d.Type, MessageID: d.MessageID, TopicArn: d.TopicARN, Subject: d.Subject, Message: d.Message,
		Timestamp: d.Timestamp.UTC().Format(timestampLayout), SignatureVersion: d.SignatureVersion, SequenceNumber: d.Sequence}
	if d.Type == typeConfirmation {
		e.Token, e.SubscribeURL = d.Token, s.subscribeURL(d)
	} else {
		e.UnsubscribeURL = s.unsubscribeURL(d.SubscriptionARN)
	}
	if len(d.Attributes) > 0 {
		e.MessageAttributes = map[string]envelopeAttrib{}
		for name, a := range d.Attributes {
			v := a.StringValue
			if strings.HasPrefix(a.DataType, "Binary") {
				v = base64.StdEncoding.EncodeToString(a.BinaryValue)
			}
			e.MessageAttributes[name] = envelopeAttrib{Type: a.DataType, Value: v}
		}
	}
	certURL, sig, err := s.signer.sign(ctx, s.baseURL, e.SignatureVersion, stringToSign(e))
	if err != nil {
		return nil, err
	}
	e.Signature, e.SigningCertURL = sig, certURL
	return e, nil
}

// stringToSign is what SNS signs: name and value lines of the message's
// fields, in byte order.
func stringToSign(e *envelope) string {
	var b strings.Builder
	add := func(name, value string) { b.WriteString(name + "\n" + value + "\n") }
	add("Message", e.Message)
	add("MessageId", e.MessageID)
	if e.Type == typeNotification {
		if e.Subject != "" {
			add("Subject", e.Subject)
		}
	} else {
		add("SubscribeURL", e.SubscribeURL)
	}
	add("Timestamp", e.Timestamp)
	if e.Type != typeNotification {
		add("Token", e.Token)
	}
	add("TopicArn", e.TopicArn)
	add("Type", e.Type)
	return b.String()
}

func (s *Service) subscribeURL(d *delivery) string {
	q := url.Values{"Action": {"ConfirmSubscription"}, "TopicArn": {d.TopicARN}, "Token": {d.Token}}
	return s.baseURL + PlanePrefix + "?" + q.Encode()
}

func (s *Service) unsubscribeURL(subARN string) string {
	q := url.Values{"Action": {"Unsubscribe"}, "SubscriptionArn": {subARN}}
	return s.baseURL + PlanePrefix + "?" + q.Encode()
}

// retryPolicy is a delivery policy's healthy retry policy.
type retryPolicy struct {
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	NumRetries         int    `json:"numRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	BackoffFunction    string `json:"backoffFunction"`
}

// httpRetries is SNS's default for HTTP/S endpoints.
var httpRetries = retryPolicy{MinDelayTarget: 20, MaxDelayTarget: 20, NumRetries: 3, BackoffFunction: "linear"}

// serviceRetries is SNS's fixed policy for AWS-managed endpoints (SQS):
// 3 immediate retries, 2 a second apart, 10 backing off from 1 s to 20 s,
// then 100,000 at 20 s.
var serviceRetries = retryPolicy{MinDelayTarget: 1, MaxDelayTarget: 20, NumRetries: 100015, NumNoDelayRetries: 3,
	NumMinDelayRetries: 2, NumMaxDelayRetries: 100000, BackoffFunction: "exponential"}

// deliveryPolicy is a DeliveryPolicy attribute: topics nest it under the
// protocol ("http"), subscriptions give it bare.
type deliveryPolicy struct {
	HTTP                         *deliveryPolicy `json:"http,omitempty"`
	DisableSubscriptionOverrides bool            `json:"disableSubscriptionOverrides,omitempty"`
	DefaultHealthyRetryPolicy    *retryPolicy    `json:"defaultHealthyRetryPolicy,omitempty"`
	HealthyRetryPolicy           *retryPolicy    `json:"healthyRetryPolicy,omitempty"`
}

func validDeliveryPolicy(v string) bool {
	var p deliveryPolicy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return false
	}
	for _, rp := range []*retryPolicy{p.DefaultHealthyRetryPolicy, p.HealthyRetryPolicy} {
		if rp != nil && (rp.NumRetries < 0 || rp.NumRetries > 100 || rp.MinDelayTarget < 0 || rp.MaxDelayTarget < rp.MinDelayTarget || rp.MaxDelayTarget > 3600) {
			return false
		}
	}
	if p.HTTP != nil {
		b, _ := json.Marshal(p.HTTP)
		return validDeliveryPolicy(string(b))
	}
	return true
}

// effectiveDeliveryPolicy is what GetTopicAttributes and
// GetSubscriptionAttributes report: the HTTP default with what was set.
func effectiveDeliveryPolicy(set string) string {
	rp := httpPolicyOf(set)
	doc := map[string]any{"http": map[string]any{
		"defaultHealthyRetryPolicy":    rp,
		"disableSubscriptionOverrides": false,
		"defaultRequestPolicy":         map[string]any{"headerContentType": "text/plain; charset=UTF-8"},
	}}
	b, _ := json.Marshal(doc)
	return string(b)
}

func httpPolicyOf(set string) retryPolicy {
	rp := httpRetries
	var p deliveryPolicy
	if set == "" || json.Unmarshal([]byte(set), &p) != nil {
		return rp
	}
	if p.HTTP != nil {
		p = *p.HTTP
	}
	for _, given := range []*retryPolicy{p.DefaultHealthyRetryPolicy, p.HealthyRetryPolicy} {
		if given != nil {
			rp = *given
			if rp.BackoffFunction == "" {
				rp.BackoffFunction = "linear"
			}
		}
	}
	return rp
}

// retryPolicyOf is the retry policy of sub's protocol: for HTTP/S the
// subscription's delivery policy, else the topic's (topicPolicy), unless
// the topic disables subscription overrides.
func retryPolicyOf(sub *subscription, topicPolicy string) retryPolicy {
	switch sub.Protocol {
	case protoHTTP, protoHTTPS:
		own := sub.Attributes[attrDeliveryPolicy]
		var tp deliveryPolicy
		_ = json.Unmarshal([]byte(topicPolicy), &tp) // validated when set; "" is none
		if own == "" || (tp.HTTP != nil && tp.HTTP.DisableSubscriptionOverrides) {
			return httpPolicyOf(topicPolicy)
		}
		return httpPolicyOf(own)
	case protoSQS:
		return serviceRetries
	}
	return retryPolicy{}
}

// delay is how long to wait before retry number n (from 1), and false
// once the policy's retries are spent. Retries go through four phases:
// immediate, at the minimum delay, backing off, at the maximum delay.
func (p retryPolicy) delay(n int) (time.Duration, bool) {
	if n > p.NumRetries {
		return 0, false
	}
	sec := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	minD, maxD := float64(p.MinDelayTarget), float64(p.MaxDelayTarget)
	backoff := p.NumRetries - p.NumNoDelayRetries - p.NumMinDelayRetries - p.NumMaxDelayRetries
	switch {
	case n <= p.NumNoDelayRetries:
		return 0, true
	case n <= p.NumNoDelayRetries+p.NumMinDelayRetries:
		return sec(minD), true
	case n > p.NumRetries-p.NumMaxDelayRetries || backoff <= 0:
		return sec(maxD), true
	}
	i := float64(n - p.NumNoDelayRetries - p.NumMinDelayRetries) // 1..backoff
	k := float64(backoff)
	switch p.BackoffFunction {
	case "arithmetic", "geometric", "exponential":
		if minD <= 0 {
			minD = 1
		}
		return sec(minD * math.Pow(maxD/minD, (i-1)/math.Max(k-1, 1))), true
	}
	return sec(minD + (maxD-minD)*(i-1)/math.Max(k-1, 1)), true
}
