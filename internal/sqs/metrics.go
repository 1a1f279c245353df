package sqs

import (
	"context"
	"errors"

	"overcast/internal/store"
)

// Metrics receives SQS's metrics: the app sends them to CloudWatch, where
// alarms and scaling policies (Beanstalk's worker tier) watch queue depth.
type Metrics interface {
	PutSQSMetrics(ctx context.Context, account, region string, points []MetricPoint) error
}

// MetricPoint is one AWS/SQS datapoint of a queue (dimension QueueName):
// Unit is Count, Seconds or Bytes.
type MetricPoint struct {
	QueueName, Name string
	Value           float64
	Unit            string
}

// publishMetrics reports every queue's depth and the last minute's
// activity, as AWS does every minute.
func (s *Service) publishMetrics(ctx context.Context) error {
	if s.metrics == nil {
		return nil
	}
	type scope struct{ account, region string }
	points := map[scope][]MetricPoint{}
	now := s.Now()
	for _, q := range s.allQueues() {
		q.mu.Lock()
		visible, notVisible, delayed, oldest := q.depth(now)
		c := q.counts
		q.counts = activity{}
		name, sc := q.rec.Name, scope{q.rec.Account, q.rec.Region}
		q.mu.Unlock()
		age := 0.0
		if !oldest.IsZero() {
			age = now.Sub(oldest).Seconds()
		}
		point := func(metric string, v float64, unit string) MetricPoint { return MetricPoint{name, metric, v, unit} }
		ps := []MetricPoint{
			point("ApproximateNumberOfMessagesVisible", float64(visible), "Count"),
			point("ApproximateNumberOfMessagesNotVisible", float64(notVisible), "Count"),
			point("ApproximateNumberOfMessagesDelayed", float64(delayed), "Count"),
			point("ApproximateAgeOfOldestMessage", age, "Seconds"),
			point("NumberOfMessagesSent", float64(c.sent), "Count"),
			point("NumberOfMessagesReceived", float64(c.received), "Count"),
			point("NumberOfMessagesDeleted", float64(c.deleted), "Count"),
			point("NumberOfEmptyReceives", float64(c.emptyReceives), "Count"),
		}
		if c.sent > 0 {
			ps = append(ps, point("SentMessageSize", float64(c.sentBytes)/float64(c.sent), "Bytes"))
		}
		points[sc] = append(points[sc], ps...)
	}
	var errs []error
	for sc, ps := range points {
		errs = append(errs, s.metrics.PutSQSMetrics(ctx, sc.account, sc.region, ps))
	}
	return errors.Join(errs...)
}

// expireMessages deletes the messages that outlived their queue's
// retention period (receives skip them already), and deduplication IDs
// past their 5 minutes.
func (s *Service) expireMessages(ctx context.Context) error {
	now := s.Now()
	for _, q := range s.allQueues() {
		q.mu.Lock()
		var expired []*message
		for _, m := range q.messages {
			if !m.deleted && q.expired(m, now) {
				expired = append(expired, m)
			}
		}
		err := s.Store.Update(ctx, func(tx store.Tx) error {
			if err := q.dropExpiredDedup(tx, now, false); err != nil {
				return err
			}
			for _, m := range expired {
				if err := tx.Delete(messagesTable, messageKey(q.key, m.Seq), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if err == nil {
			for _, m := range expired {
				q.remove(m)
			}
		}
		q.forgetDedup(now)
		q.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}
