package app

import (
	"context"

	"overcast/internal/cloudwatch"
	"overcast/internal/sqs"
)

// sqsMetrics publishes SQS's queue metrics in CloudWatch's AWS/SQS
// namespace, where alarms and scaling policies find them.
type sqsMetrics struct{ cw *cloudwatch.Service }

var _ sqs.Metrics = sqsMetrics{}

func (m sqsMetrics) PutSQSMetrics(ctx context.Context, account, region string, points []sqs.MetricPoint) error {
	data := make([]cloudwatch.Datum, len(points))
	for i, p := range points {
		data[i] = cloudwatch.Datum{MetricName: p.Name, Dimensions: []cloudwatch.Dimension{{Name: "QueueName", Value: p.QueueName}},
			Values: []float64{p.Value}, Unit: p.Unit}
	}
	return m.cw.Put(ctx, account, region, "AWS/SQS", data)
}
