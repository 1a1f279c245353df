package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/cloudtrail"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

const (
	// deliverySegments bounds the segments of events one log file holds
	// (each at most the recorder's batch).
	deliverySegments = 4
	// trimBatch bounds the segments one transaction of trim deletes.
	trimBatch = 1000
	// keyChars are the characters of a log file name's random suffix.
	keyChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// deliver is a delivery pass: every logging trail writes what its
// selectors choose of the events recorded since its last delivery.
func (s *Service) deliver(ctx context.Context) error {
	s.Flush()
	var keys []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		keys, err = store.Keys(tx, trailsTable, store.ScanOptions{})
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, key := range keys {
		account, rest, _ := strings.Cut(key, "/")
		region, name, _ := strings.Cut(rest, "/")
		scoped := overcast.WithCaller(ctx, overcast.RootCaller(account, region))
		if err := s.deliverTrail(scoped, name); err != nil && !isTrailNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func isTrailNotFound(err error) bool {
	e, ok := awsproto.AsAPIError(err)
	return ok && e.ErrorCode() == "TrailNotFoundException"
}

// deliverTrail delivers one trail's new events, region by region, one
// file per region and batch; a failed delivery is kept in the trail's
// status and retried from the same place next time.
func (s *Service) deliverTrail(ctx context.Context, name string) error {
	ref, err := refOf(ctx, name)
	if err != nil {
		return err
	}
	t, err := s.getTrail(ctx, ref)
	if err != nil || !t.Logging {
		return err
	}
	regions := []string{t.HomeRegion}
	if t.IsMultiRegionTrail {
		if regions, err = s.regions(ctx, t.Account); err != nil {
			return err
		}
	}
	for _, region := range regions {
		for {
			n, err := s.deliverBatch(ctx, ref, t, region)
			if err != nil || n < deliverySegments {
				break // the error is in the trail's status
			}
			if t, err = s.getTrail(ctx, ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// deliverBatch delivers the events of up to deliverySegments segments
// recorded in region after the trail's cursor, and returns how many
// segments it looked at.
func (s *Service) deliverBatch(ctx context.Context, ref trailRef, t trail, region string) (int, error) {
	prefix := t.Account + "/" + region + "/"
	cursor, ok := t.Cursors[region]
	if !ok {
		cursor = t.StartCursor
	}
	var records []json.RawMessage
	var times []time.Time
	last, seen := cursor, 0
	err := s.history.View(ctx, func(tx store.Tx) error {
		return scanEvents(tx, store.ScanOptions{Prefix: prefix, After: prefix + cursor, Limit: deliverySegments}, nil,
			func(p position, ev event) error {
				if k := strings.TrimPrefix(p.key, prefix); k != last {
					last = k
					seen++
				}
				if t.selects(ev) {
					records = append(records, ev.record())
					times = append(times, ev.Time)
				}
				return nil
			})
	})
	if err != nil || seen == 0 {
		return 0, err
	}
	now := s.Now().UTC()
	var status deliveryStatus
	if len(records) > 0 {
		status.objectErr = s.writeLogFile(ctx, t, region, now, records)
		if t.CloudWatchLogsLogGroupArn != "" && status.objectErr == nil {
			status.logsErr = s.writeLogEvents(ctx, t, region, times, records)
			status.logs = true
		}
		status.delivered = status.objectErr == nil
	}
	_, err = s.updateTrail(ctx, ref.arn(), func(u *trail) error {
		status.apply(u, now)
		if status.objectErr == nil {
			if u.Cursors == nil {
				u.Cursors = map[string]string{}
			}
			u.Cursors[region] = last
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if status.objectErr != nil {
		return 0, status.objectErr
	}
	return seen, nil
}

// deliveryStatus is what one delivery did, for GetTrailStatus.
type deliveryStatus struct {
	delivered, logs    bool
	objectErr, logsErr error
}

func (d deliveryStatus) apply(t *trail, now time.Time) {
	if !d.delivered && d.objectErr == nil {
		return // nothing to deliver
	}
	t.LatestDeliveryAttemptTime = now
	if d.objectErr != nil {
		t.LatestDeliveryError = deliveryError(d.objectErr)
		return
	}
	t.LatestDeliveryTime, t.LatestDeliveryError = now, ""
	if d.logs {
		if d.logsErr != nil {
			t.LatestLogsDeliveryError = deliveryError(d.logsErr)
		} else {
			t.LatestLogsDeliveryTime, t.LatestLogsDeliveryError = now, ""
		}
	}
}

// deliveryError is an error as GetTrailStatus reports it: S3's code.
func deliveryError(err error) string {
	if e, ok := awsproto.AsAPIError(err); ok {
		return e.ErrorCode()
	}
	return err.Error()
}

// writeLogFile writes records as one gzipped log file, under AWS's key:
// [prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz
func (s *Service) writeLogFile(ctx context.Context, t trail, region string, now time.Time, records []json.RawMessage) error {
	if s.objects == nil {
		return nil
	}
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	if err := json.NewEncoder(zw).Encode(struct {
		Records []json.RawMessage `json:"Records"`
	}{records}); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return s.objects.PutObject(ctx, servicePrincipal, t.ARN, t.S3BucketName, logFileKey(t, region, now, s.IDs.String(keyChars, 16)),
		&body, int64(body.Len()))
}

func logFileKey(t trail, region string, now time.Time, suffix string) string {
	key := "AWSLogs/" + t.Account + "/CloudTrail/" + region + "/" + now.Format("2006/01/02") + "/" +
		t.Account + "_CloudTrail_" + region + "_" + now.Format("20060102T1504Z") + "_" + suffix + ".json.gz"
	if t.S3KeyPrefix != "" {
		key = strings.TrimSuffix(t.S3KeyPrefix, "/") + "/" + key
	}
	return key
}

// writeLogEvents sends records to the trail's log group, one log event
// each, in the stream AWS names <account>_CloudTrail_<region>.
func (s *Service) writeLogEvents(ctx context.Context, t trail, region string, times []time.Time, records []json.RawMessage) error {
	if s.logs == nil {
		return nil
	}
	a, _ := overcast.ParseARN(t.CloudWatchLogsLogGroupArn)
	group := strings.TrimSuffix(strings.TrimPrefix(a.Resource, "log-group:"), ":*")
	events := make([]LogEvent, len(records))
	for i, r := range records {
		events[i] = LogEvent{Time: times[i], Message: string(r)}
	}
	return s.logs.Append(ctx, a.AccountID, a.Region, group, t.Account+"_CloudTrail_"+region, events)
}

// regions are the regions of an account that have events.
func (s *Service) regions(ctx context.Context, account string) ([]string, error) {
	var regions []string
	err := s.history.View(ctx, func(tx store.Tx) error {
		prefixes, err := scopePrefixes(tx, account+"/")
		for _, p := range prefixes {
			_, region, _ := strings.Cut(strings.TrimSuffix(p, "/"), "/")
			regions = append(regions, region)
		}
		return err
	})
	return regions, err
}

// ends are, by region, the key (after the region's prefix) of the last
// event of the account recorded so far: where a trail that starts logging
// now starts delivering from.
func (s *Service) ends(ctx context.Context, account string) (map[string]string, error) {
	ends := map[string]string{}
	err := s.history.View(ctx, func(tx store.Tx) error {
		prefixes, err := scopePrefixes(tx, account+"/")
		for _, p := range prefixes {
			_, region, _ := strings.Cut(strings.TrimSuffix(p, "/"), "/")
			err = tx.Scan(eventsTable, store.ScanOptions{Prefix: p, Reverse: true, Limit: 1}, func(it store.Item) error {
				ends[region] = strings.TrimPrefix(it.Key, p)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return err
	})
	return ends, err
}

// scopePrefixes are the account/region/ prefixes of the events under
// prefix, found by skipping from one scope to the next rather than by
// reading every event.
func scopePrefixes(tx store.Tx, prefix string) ([]string, error) {
	var out []string
	after := ""
	for {
		var key string
		err := tx.Scan(eventsTable, store.ScanOptions{Prefix: prefix, After: after, Limit: 1}, func(it store.Item) error {
			key = it.Key
			return nil
		})
		if err != nil || key == "" {
			return out, err
		}
		account, rest, _ := strings.Cut(key, "/")
		region, _, _ := strings.Cut(rest, "/")
		p := account + "/" + region + "/"
		out = append(out, p)
		after = p + "\xff"
	}
}

// trim deletes the events older than 90 days, scope by scope.
func (s *Service) trim(ctx context.Context) error {
	cutoff := stampKey(s.Now().Add(-retention).UnixNano())
	var prefixes []string
	err := s.history.View(ctx, func(tx store.Tx) (err error) {
		prefixes, err = scopePrefixes(tx, "")
		return err
	})
	if err != nil {
		return err
	}
	for _, p := range prefixes {
		for {
			var n int
			err := s.history.Update(ctx, func(tx store.Tx) error {
				keys, err := store.Keys(tx, eventsTable, store.ScanOptions{Prefix: p, Limit: trimBatch})
				if err != nil {
					return err
				}
				for _, k := range keys {
					if k >= p+cutoff {
						break
					}
					if err := tx.Delete(eventsTable, k, store.AnyVersion); err != nil {
						return err
					}
					n++
				}
				return nil
			})
			if err != nil {
				return err
			}
			if n < trimBatch {
				break
			}
		}
	}
	return nil
}

// PutEventSelectors sets which events the trail delivers: classic
// selectors or advanced ones, not both.
func (s *Service) PutEventSelectors(ctx context.Context, in *api.PutEventSelectorsRequest) (*api.PutEventSelectorsResponse, error) {
	if err := checkSelectors(in); err != nil {
		return nil, err
	}
	t, err := s.updateTrail(ctx, *in.TrailName, func(t *trail) error {
		t.EventSelectors, t.AdvancedEventSelectors = in.EventSelectors, in.AdvancedEventSelectors
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.changedTrails(ctx)
	return &api.PutEventSelectorsResponse{TrailARN: new(t.ARN), EventSelectors: t.EventSelectors, AdvancedEventSelectors: t.AdvancedEventSelectors}, nil
}

// GetEventSelectors returns the trail's selectors; a trail without any
// logs every management event, read and write.
func (s *Service) GetEventSelectors(ctx context.Context, in *api.GetEventSelectorsRequest) (*api.GetEventSelectorsResponse, error) {
	t, err := s.trailNamed(ctx, *in.TrailName)
	if err != nil {
		return nil, err
	}
	out := &api.GetEventSelectorsResponse{TrailARN: new(t.ARN), EventSelectors: t.EventSelectors, AdvancedEventSelectors: t.AdvancedEventSelectors}
	if len(t.EventSelectors) == 0 && len(t.AdvancedEventSelectors) == 0 {
		out.EventSelectors = api.EventSelectors{defaultSelector()}
	}
	return out, nil
}

func defaultSelector() api.EventSelector {
	return api.EventSelector{ReadWriteType: new("All"), IncludeManagementEvents: new(true), DataResources: api.DataResources{},
		ExcludeManagementEventSources: api.ExcludeManagementEventSources{}}
}

// advancedFields are the fields advanced event selectors may test.
var advancedFields = map[string]bool{"eventCategory": true, "resources.type": true, "resources.ARN": true, "readOnly": true,
	"eventName": true, "eventSource": true}

func checkSelectors(in *api.PutEventSelectorsRequest) error {
	invalid := func(format string, args ...any) error {
		return ctError("InvalidEventSelectorsException", format, args...)
	}
	switch {
	case len(in.EventSelectors) > 0 && len(in.AdvancedEventSelectors) > 0:
		return ctError("InvalidParameterCombinationException", "You cannot specify both EventSelectors and AdvancedEventSelectors.")
	case len(in.EventSelectors) == 0 && len(in.AdvancedEventSelectors) == 0:
		return invalid("You must specify either EventSelectors or AdvancedEventSelectors.")
	case len(in.EventSelectors) > 5:
		return invalid("You can specify up to 5 event selectors for a trail.")
	}
	for _, es := range in.EventSelectors {
		for _, dr := range es.DataResources {
			if dr.Type == nil || !knownDataType(*dr.Type) {
				return invalid("Invalid DataResource type: %s", deref(dr.Type))
			}
		}
	}
	for _, as := range in.AdvancedEventSelectors {
		category := ""
		for _, f := range as.FieldSelectors {
			if !advancedFields[*f.Field] {
				return invalid("Invalid field: %s", *f.Field)
			}
			if *f.Field == "eventCategory" && len(f.Equals) == 1 {
				category = f.Equals[0]
			}
		}
		if category != "Management" && category != "Data" {
			return invalid("eventCategory must be specified with Equals Management or Data in each advanced event selector.")
		}
	}
	return nil
}

func knownDataType(t string) bool {
	for _, d := range dataEvents {
		if d.resourceType == t {
			return true
		}
	}
	return false
}

// selects says whether the trail delivers ev.
func (t trail) selects(ev event) bool {
	if len(t.AdvancedEventSelectors) > 0 {
		for _, as := range t.AdvancedEventSelectors {
			if advancedSelects(as, ev) {
				return true
			}
		}
		return false
	}
	selectors := t.EventSelectors
	if len(selectors) == 0 {
		selectors = api.EventSelectors{defaultSelector()}
	}
	for _, es := range selectors {
		if classicSelects(es, ev) {
			return true
		}
	}
	return false
}

func classicSelects(es api.EventSelector, ev event) bool {
	switch deref(es.ReadWriteType) {
	case "ReadOnly":
		if !ev.ReadOnly {
			return false
		}
	case "WriteOnly":
		if ev.ReadOnly {
			return false
		}
	}
	if ev.Management {
		for _, src := range es.ExcludeManagementEventSources {
			if src == ev.Source {
				return false
			}
		}
		return es.IncludeManagementEvents == nil || *es.IncludeManagementEvents
	}
	for _, dr := range es.DataResources {
		if deref(dr.Type) != ev.DataType {
			continue
		}
		for _, v := range dr.Values {
			if dataValueSelects(v, ev) {
				return true
			}
		}
	}
	return false
}

// dataValueSelects says whether a DataResource value chooses ev: the
// service's bare prefix ("arn:aws:s3") chooses all, an ARN its resource
// and, for S3, a bucket ARN ending in / every object under it.
func dataValueSelects(v string, ev event) bool {
	if strings.Count(v, ":") <= 2 || strings.HasSuffix(v, ":::") {
		return true
	}
	for _, arn := range ev.ARNs {
		if arn == v || strings.HasSuffix(v, "/") && strings.HasPrefix(arn, v) {
			return true
		}
	}
	return false
}

func advancedSelects(as api.AdvancedEventSelector, ev event) bool {
	for _, f := range as.FieldSelectors {
		var values []string
		switch *f.Field {
		case "eventCategory":
			values = []string{"Data"}
			if ev.Management {
				values = []string{"Management"}
			}
		case "resources.type":
			values = []string{ev.DataType}
		case "resources.ARN":
			values = ev.ARNs
		case "readOnly":
			values = []string{strconv.FormatBool(ev.ReadOnly)}
		case "eventName":
			values = []string{ev.Name}
		case "eventSource":
			values = []string{ev.Source}
		}
		if !fieldSelects(f, values) {
			return false
		}
	}
	return true
}

// fieldSelects applies one field selector's operators to the field's
// values: every operator given must hold of some value.
func fieldSelects(f api.AdvancedFieldSelector, values []string) bool {
	some := func(ops []string, test func(v, op string) bool) bool {
		if len(ops) == 0 {
			return true
		}
		for _, v := range values {
			for _, op := range ops {
				if test(v, op) {
					return true
				}
			}
		}
		return false
	}
	none := func(ops []string, test func(v, op string) bool) bool {
		return len(ops) == 0 || !some(ops, test)
	}
	eq := func(v, op string) bool { return v == op }
	return some(f.Equals, eq) && some(f.StartsWith, strings.HasPrefix) && some(f.EndsWith, strings.HasSuffix) &&
		none(f.NotEquals, eq) && none(f.NotStartsWith, strings.HasPrefix) && none(f.NotEndsWith, strings.HasSuffix)
}
