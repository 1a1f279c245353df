package cloudwatch

import (
	"context"
	"slices"
	"strconv"
	"time"

	"overcast"
	api "overcast/internal/api/cloudwatch"
	"overcast/internal/service"
	"overcast/internal/store"
)

// defaultMaxDatapoints is GetMetricData's page size when the caller sets none.
const defaultMaxDatapoints = 100800

// GetMetricData answers MetricStat queries (metric math is not evaluated)
// in pages of MaxDatapoints datapoints across the queries, newest first
// unless ScanBy says otherwise.
func (s *Service) GetMetricData(ctx context.Context, in *api.GetMetricDataInput) (*api.GetMetricDataOutput, error) {
	start, end := *in.StartTime, *in.EndTime
	if !start.Before(end) {
		return nil, api.NewInvalidParameterValueException("The parameter StartTime must be less than the parameter EndTime.")
	}
	limit := defaultMaxDatapoints
	if in.MaxDatapoints != nil && *in.MaxDatapoints > 0 {
		limit = int(*in.MaxDatapoints)
	}
	offset := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 {
			return nil, api.NewInvalidNextToken("The next token is invalid.")
		}
		offset = n
	}
	ids := map[string]bool{}
	for _, q := range in.MetricDataQueries {
		if ids[*q.Id] {
			return nil, api.NewInvalidParameterValueException("The value %s for parameter MetricDataQueries.Id is duplicated.", *q.Id)
		}
		ids[*q.Id] = true
		if q.MetricStat == nil {
			return nil, api.NewInvalidParameterValueException("The query %s has no MetricStat: overcast does not evaluate metric math expressions.", *q.Id)
		}
		if err := checkMetricStat(q.MetricStat); err != nil {
			return nil, err
		}
	}
	sc := overcast.ScopeOf(ctx)
	results := make(api.MetricDataResults, 0, len(in.MetricDataQueries))
	err := s.Store.View(ctx, func(tx store.Tx) error {
		for _, q := range in.MetricDataQueries {
			r, err := metricStatResult(tx, sc, q, start, end, service.Deref(in.ScanBy) == api.ScanByTimestampAscending)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &api.GetMetricDataOutput{MetricDataResults: api.MetricDataResults{}, Messages: api.MetricDataResultMessages{}}
	// Datapoints are numbered across the queries, in their order; a page
	// is the window [offset, offset+limit) of that numbering.
	seen, taken := 0, 0
	for i, r := range results {
		from := min(max(offset-seen, 0), len(r.Values))
		to := min(from+limit-taken, len(r.Values))
		seen += len(r.Values)
		if from < len(r.Values) || len(r.Values) == 0 {
			r.Timestamps, r.Values = r.Timestamps[from:to], r.Values[from:to]
			taken += to - from
		} else {
			r.Timestamps, r.Values = api.Timestamps{}, api.DatapointValues{}
		}
		if q := in.MetricDataQueries[i]; q.ReturnData == nil || *q.ReturnData {
			out.MetricDataResults = append(out.MetricDataResults, r)
		}
	}
	if offset+taken < seen {
		out.NextToken = new(strconv.Itoa(offset + taken))
		for i := range out.MetricDataResults {
			out.MetricDataResults[i].StatusCode = new(api.StatusCodePartialData)
		}
	}
	return out, nil
}

func checkMetricStat(ms *api.MetricStat) error {
	if err := checkPeriod(*ms.Period); err != nil {
		return err
	}
	if !validStatistic(*ms.Stat) {
		return api.NewInvalidParameterValueException("The value %s for parameter MetricStat.Stat is not supported.", *ms.Stat)
	}
	return nil
}

func metricStatResult(tx store.Tx, sc scope, q api.MetricDataQuery, start, end time.Time, ascending bool) (api.MetricDataResult, error) {
	ms := q.MetricStat
	r := api.MetricDataResult{Id: q.Id, Label: q.Label, StatusCode: new(api.StatusCodeComplete),
		Timestamps: api.Timestamps{}, Values: api.DatapointValues{}, Messages: api.MetricDataResultMessages{}}
	if r.Label == nil {
		r.Label = ms.Metric.MetricName
	}
	buckets, err := series(tx, sc, service.Deref(ms.Metric.Namespace), service.Deref(ms.Metric.MetricName), dimensionsOf(ms.Metric.Dimensions),
		start, end, time.Duration(*ms.Period)*time.Second, service.Deref(ms.Unit))
	if err != nil {
		return r, err
	}
	if !ascending {
		slices.Reverse(buckets)
	}
	for _, b := range buckets {
		if v, ok := b.stat(*ms.Stat); ok {
			r.Timestamps = append(r.Timestamps, b.Start)
			r.Values = append(r.Values, v)
		}
	}
	return r, nil
}
