package cloudtrail

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/cloudtrail"
	"overcast/internal/api/s3"
	"overcast/internal/api/sts"
	"overcast/internal/awsproto"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

// fullRecord is every field of a CloudTrail record, in the order
// CloudTrail writes them: what a rendered record must read back as, byte
// for byte, when encoding/json writes it again.
type fullRecord struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       userIdentity    `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode,omitempty"`
	ErrorMessage       string          `json:"errorMessage,omitempty"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	ReadOnly           bool            `json:"readOnly"`
	Resources          []recordARN     `json:"resources,omitempty"`
	EventType          string          `json:"eventType"`
	ManagementEvent    bool            `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventCategory      string          `json:"eventCategory"`
	TLSDetails         *struct {
		TLSVersion  string `json:"tlsVersion"`
		CipherSuite string `json:"cipherSuite"`
	} `json:"tlsDetails,omitempty"`
}

type recordARN struct {
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId,omitempty"`
}

func operation(svc *awsproto.Service, name string) *awsproto.Operation {
	if op := svc.Operation(name); op != nil {
		return op
	}
	panic("no operation " + name)
}

// TestCompactSegmentRendersRecords: events written to a compact segment
// read back with the fields LookupEvents matches and records as
// CloudTrail writes them.
func TestCompactSegmentRendersRecords(t *testing.T) {
	env := servicetest.Env(t)
	r := NewRecorder(env.Store, env.History, "", env.IDs, env.Clock.Now, env.Logger, nil)
	defer r.Close()
	at := time.Date(2026, 12, 7, 10, 11, 12, 500, time.UTC)
	user := overcast.Caller{AccountID: "000000000000", Region: "eu-west-1", AccessKeyID: "AKIAEXAMPLE", Kind: overcast.PrincipalUser,
		ARN: "arn:aws:iam::000000000000:user/dev/alice", UserID: "AIDAEXAMPLE"}
	role := overcast.Caller{AccountID: "000000000000", Region: "eu-west-1", AccessKeyID: "ASIAEXAMPLE", Kind: overcast.PrincipalAssumedRole,
		ARN: "arn:aws:sts::000000000000:assumed-role/deployer/ci", UserID: "AROAEXAMPLE:ci", RoleARN: "arn:aws:iam::000000000000:role/deployer"}
	origin := overcast.Origin{SourceIP: "10.0.0.7", UserAgent: "aws-cli/2 \"quoted\" \x01", Time: at}
	calls := []call{
		{c: &awsproto.Call{Service: sts.Service, Operation: operation(sts.Service, "GetCallerIdentity"), Input: &sts.GetCallerIdentityRequest{}},
			category: managementEvent, caller: user, origin: origin, requestID: "req-1",
			out: &sts.GetCallerIdentityResponse{Account: new("000000000000")}},
		{c: &awsproto.Call{Service: s3.Service, Operation: operation(s3.Service, "CreateBucket"), Input: &s3.CreateBucketRequest{Bucket: new("b")}},
			category: managementEvent, caller: role, origin: overcast.Origin{SourceIP: "127.0.0.1", SecureTransport: true, Time: at},
			requestID: "req-2", err: &awsproto.Error{Code: "BucketAlreadyExists", Status: 409, Message: "The requested bucket name is not available."}},
		{c: &awsproto.Call{Service: s3.Service, Operation: operation(s3.Service, "PutObject"), Input: &s3.PutObjectRequest{Bucket: new("b"), Key: new("k/é")}},
			category: categoryOf("s3", "PutObject"), caller: overcast.RootCaller("000000000000", "eu-west-1"), origin: origin,
			requestID: "req-3", out: &s3.PutObjectOutput{ETag: new(`"abc"`)}},
	}
	var batch []pending
	for i := range calls {
		scope := scopeOf(calls[i].caller)
		batch = append(batch, pending{scope: scope, ev: r.event(&calls[i], scope)})
	}
	r.writeBatch(batch)

	var events []event
	err := env.History.View(context.Background(), func(tx store.Tx) error {
		return scanEvents(tx, store.ScanOptions{Prefix: "000000000000/eu-west-1/"}, nil, func(_ position, ev event) error {
			events = append(events, ev)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	type fields struct {
		Name, Source, Username, AccessKeyID string
		ReadOnly, Management                bool
		DataType                            string
		Resources                           []resource
		ARNs                                []string
	}
	var got []fields
	for _, ev := range events {
		got = append(got, fields{ev.Name, ev.Source, ev.Username, ev.AccessKeyID, ev.ReadOnly, ev.Management, ev.DataType, ev.Resources, ev.ARNs})
		if ev.Time != at.Truncate(time.Second) {
			t.Errorf("%s: time %v, want %v", ev.Name, ev.Time, at.Truncate(time.Second))
		}
	}
	want := []fields{
		{Name: "GetCallerIdentity", Source: "sts.amazonaws.com", Username: "alice", AccessKeyID: "AKIAEXAMPLE", ReadOnly: true, Management: true},
		{Name: "CreateBucket", Source: "s3.amazonaws.com", Username: "ci", AccessKeyID: "ASIAEXAMPLE", Management: true,
			Resources: []resource{{Type: "AWS::S3::Bucket", Name: "b"}}},
		{Name: "PutObject", Source: "s3.amazonaws.com", Username: "root", DataType: "AWS::S3::Object",
			Resources: []resource{{Type: "AWS::S3::Bucket", Name: "b"}, {Type: "AWS::S3::Object", Name: "arn:aws:s3:::b/k/é"}},
			ARNs:      []string{"arn:aws:s3:::b/k/é"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}

	ids := map[string]bool{}
	for _, ev := range events {
		if len(ev.ID) != 36 || ev.ID[14] != '4' || ids[ev.ID] {
			t.Errorf("event ID %q: want a UUID no other event has", ev.ID)
		}
		ids[ev.ID] = true
	}
	records := make([]fullRecord, len(events))
	for i, ev := range events {
		raw := ev.record()
		if err := json.Unmarshal(raw, &records[i]); err != nil {
			t.Fatalf("%s: record %s: %v", ev.Name, raw, err)
		}
		again, _ := json.Marshal(records[i])
		if !bytes.Equal(again, raw) {
			t.Errorf("%s: record\n %s\nis not as CloudTrail writes it:\n %s", ev.Name, raw, again)
		}
		if records[i].EventID != ev.ID || records[i].EventTime != "2026-12-07T10:11:12Z" || records[i].AWSRegion != "eu-west-1" ||
			records[i].RecipientAccountID != "000000000000" || records[i].EventVersion != eventVersion {
			t.Errorf("%s: record %s", ev.Name, raw)
		}
	}
	if r := records[0]; r.UserIdentity.Type != "IAMUser" || r.UserIdentity.UserName != "alice" || r.UserAgent != origin.UserAgent ||
		string(r.ResponseElements) != "null" || string(r.RequestParameters) != "null" || r.EventCategory != "Management" {
		t.Errorf("GetCallerIdentity's record = %+v", r)
	}
	if r := records[1]; r.UserIdentity.Type != "AssumedRole" || r.UserIdentity.SessionContext.SessionIssuer.UserName != "deployer" ||
		r.ErrorCode != "BucketAlreadyExists" || r.ErrorMessage != "The requested bucket name is not available." || r.TLSDetails == nil ||
		string(r.ResponseElements) != "null" {
		t.Errorf("CreateBucket's record = %+v", r)
	}
	wantResources := []recordARN{{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::b/k/é", AccountID: "000000000000"}}
	if r := records[2]; r.UserIdentity.Type != "Root" || r.EventCategory != "Data" || r.ManagementEvent ||
		!cmp.Equal(r.Resources, wantResources) || len(r.RequestParameters) < 10 || string(r.ResponseElements) == "null" {
		t.Errorf("PutObject's record = %+v", r)
	}
}

// TestFirstFormatSegmentsStillRead: segments written before the compact
// format (a deflated JSON array of events and records) read as they were.
func TestFirstFormatSegmentsStillRead(t *testing.T) {
	raw := `[{"e":{"id":"e1","time":"2026-12-01T00:00:00Z","name":"CreateBucket","source":"s3.amazonaws.com","username":"dev",` +
		`"readOnly":false,"management":true,"resources":[{"type":"AWS::S3::Bucket","name":"b"}]},"r":{"eventName":"CreateBucket"}}]`
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write([]byte(raw))
	w.Close()
	events, err := decodeSegment("k", b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].ID != "e1" || events[0].Username != "dev" || string(events[0].record()) != `{"eventName":"CreateBucket"}` ||
		!cmp.Equal(events[0].Resources, []resource{{Type: "AWS::S3::Bucket", Name: "b"}}) {
		t.Errorf("events = %+v", events)
	}
}

// TestDataEventsOnlyWhereATrailAsks: a data event is dropped on the
// request path unless a logging trail in its scope may select data
// events; a multi-region trail covers every region of its account.
func TestDataEventsOnlyWhereATrailAsks(t *testing.T) {
	tests := []struct {
		name  string
		trail trail
		scope overcast.Scope
		want  bool
	}{
		{"no trail", trail{}, overcast.Scope{Account: "000000000000", Region: "us-east-1"}, false},
		{"management trail", trail{Account: "000000000000", HomeRegion: "us-east-1", Logging: true},
			overcast.Scope{Account: "000000000000", Region: "us-east-1"}, false},
		{"data trail not logging", trail{Account: "000000000000", HomeRegion: "us-east-1",
			EventSelectors: dataSelectors()}, overcast.Scope{Account: "000000000000", Region: "us-east-1"}, false},
		{"data trail", trail{Account: "000000000000", HomeRegion: "us-east-1", Logging: true,
			EventSelectors: dataSelectors()}, overcast.Scope{Account: "000000000000", Region: "us-east-1"}, true},
		{"data trail, other region", trail{Account: "000000000000", HomeRegion: "us-east-1", Logging: true,
			EventSelectors: dataSelectors()}, overcast.Scope{Account: "000000000000", Region: "eu-west-1"}, false},
		{"multi-region data trail", trail{Account: "000000000000", HomeRegion: "us-east-1", Logging: true, IsMultiRegionTrail: true,
			EventSelectors: dataSelectors()}, overcast.Scope{Account: "000000000000", Region: "eu-west-1"}, true},
		{"data trail, other account", trail{Account: "111111111111", HomeRegion: "us-east-1", Logging: true,
			EventSelectors: dataSelectors()}, overcast.Scope{Account: "000000000000", Region: "us-east-1"}, false},
		{"advanced management-only", trail{Account: "000000000000", HomeRegion: "us-east-1", Logging: true,
			AdvancedEventSelectors: advanced("Management")}, overcast.Scope{Account: "000000000000", Region: "us-east-1"}, false},
		{"advanced data", trail{Account: "000000000000", HomeRegion: "us-east-1", Logging: true,
			AdvancedEventSelectors: advanced("Data")}, overcast.Scope{Account: "000000000000", Region: "us-east-1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := servicetest.Env(t)
			if tt.trail.Account != "" {
				err := env.Store.Update(context.Background(), func(tx store.Tx) error {
					_, err := store.PutJSON(tx, trailsTable, tt.trail.Account+"/"+tt.trail.HomeRegion+"/t", &tt.trail, 0)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			r := NewRecorder(env.Store, env.History, "", env.IDs, env.Clock.Now, env.Logger, nil)
			defer r.Close()
			ctx := overcast.WithCaller(context.Background(), overcast.RootCaller(tt.scope.Account, tt.scope.Region))
			c := &awsproto.Call{Service: s3.Service, Operation: operation(s3.Service, "GetObject"), Input: &s3.GetObjectRequest{Bucket: new("b"), Key: new("k")}}
			r.Intercept(ctx, c, func(context.Context) (any, error) { return &s3.GetObjectOutput{}, nil })
			r.Flush()
			var n int
			err := env.History.View(context.Background(), func(tx store.Tx) error {
				return scanEvents(tx, store.ScanOptions{}, nil, func(position, event) error { n++; return nil })
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := n == 1; got != tt.want {
				t.Errorf("recorded %d GetObject events, want recorded = %v", n, tt.want)
			}
		})
	}
}

func dataSelectors() api.EventSelectors {
	return api.EventSelectors{{DataResources: api.DataResources{{Type: new("AWS::S3::Object"), Values: []string{"arn:aws:s3"}}}}}
}

func advanced(category string) api.AdvancedEventSelectors {
	return api.AdvancedEventSelectors{{FieldSelectors: api.AdvancedFieldSelectors{{Field: new("eventCategory"), Equals: []string{category}}}}}
}
