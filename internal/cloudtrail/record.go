package cloudtrail

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"overcast"
	"overcast/internal/authz"
	"overcast/internal/awsproto"
	"overcast/internal/ids"
	"overcast/internal/store"
)

// eventVersion is the record format CloudTrail writes today.
const eventVersion = "1.11"

// eventsTable holds every recorded event, in segments (segment.go) keyed
// by account/region/<stamp>/<suffix>: a scope's events in the order the
// recorder wrote them, which is (nearly) their time order and, unlike it,
// never changes behind a trail's delivery cursor.
const eventsTable = "cloudtrail.events"

const (
	// queueSize bounds the calls waiting to be written. A full queue
	// makes requests wait for the writer rather than lose their events:
	// CloudTrail loses nothing, and a writer that cannot keep up for
	// that long has a store that cannot either.
	queueSize = 8192
	// batchSize bounds the events one store transaction writes.
	batchSize = 512
	// lingerTime is how long the writer waits for more calls to join a
	// batch before writing it.
	lingerTime = 50 * time.Millisecond
)

// event is a recorded call as the store keeps it: the record CloudTrail
// shows, and the fields LookupEvents and event selectors match on.
type event struct {
	ID          string     `json:"id"`
	Time        time.Time  `json:"time"`
	Name        string     `json:"name"`
	Source      string     `json:"source"`
	Username    string     `json:"username,omitempty"`
	AccessKeyID string     `json:"accessKeyId,omitempty"`
	ReadOnly    bool       `json:"readOnly"`
	Management  bool       `json:"management"`
	Resources   []resource `json:"resources,omitempty"`
	// DataType and ARNs are what data event selectors match: the
	// resource type (AWS::S3::Object) and the ARNs of the resources.
	DataType string   `json:"dataType,omitempty"`
	ARNs     []string `json:"arns,omitempty"`
	// Record is the record itself, for events of the first segment
	// format; events of compact segments render it from their segment
	// when asked (record).
	Record  json.RawMessage `json:"-"`
	compact *compactSegment
	index   int
}

// record is the event's CloudTrail record.
func (e event) record() json.RawMessage {
	if e.Record == nil && e.compact != nil {
		return e.compact.render(e.index, e.ID)
	}
	return e.Record
}

// resource is one resource a call touched, as LookupEvents lists it.
type resource struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// userIdentity is who made a call, as CloudTrail describes each kind of
// caller.
type userIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *sessionContext `json:"sessionContext,omitempty"`
}

type sessionContext struct {
	SessionIssuer sessionIssuer     `json:"sessionIssuer"`
	Attributes    map[string]string `json:"attributes"`
}

type sessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// call is what the interceptor hands the writer: everything the record
// needs, taken on the request path without any encoding.
type call struct {
	c         *awsproto.Call
	category  category
	caller    overcast.Caller
	origin    overcast.Origin
	requestID string
	out       any
	err       error
}

// pending is an event on its way to the history: its scope, and where
// the journal ends after it.
type pending struct {
	scope overcast.Scope
	ev    recorded
	pos   journalPos
}

// recorded is a call made into an event, as a segment stores it.
type recorded struct {
	time                                time.Time
	flags                               int
	requestID                           string
	name, source                        string
	identity, username, accessKeyID     string
	sourceIP, userAgent                 string
	errorCode, errorMessage             string
	requestParameters, responseElements []byte
	dataType                            string
	resources                           []resource
}

// identity is a caller as records name it, made once per caller.
type identity struct {
	json     string // the record's userIdentity
	username string // LookupEvents' Username
}

// maxIdentities bounds the writer's cache of callers' identities.
const maxIdentities = 4096

// Recorder records every API call the gateway serves as a CloudTrail
// event. Its Intercept runs outermost around each call (so it records
// the calls IAM refuses too): it makes the call an event and appends it
// to the journal (journal.go) before the call is answered; a writer
// goroutine writes the events to the store in batches, off the request
// path.
type Recorder struct {
	store   store.Store // the trails, for their selectors
	history store.Store // the events (service.Env.History)
	ids     *ids.Source
	now     func() time.Time
	logger  *slog.Logger
	tables  map[string]*authz.Table // by awsproto.Service.ID: the resources of a call

	mu      sync.RWMutex // guards closed against sends on queue
	closed  bool
	queue   chan pending
	stopped chan struct{}
	flushed chan chan struct{}

	// journal is nil without a data dir (or when it cannot be opened);
	// journalID names its checkpoint.
	journal       *journal
	journalID     string
	journalFailed atomic.Bool // an append failed: said once

	writeMu sync.Mutex // the writer, and calls that outlive Close
	stamp   int64      // the last key stamp written, for their order

	identityMu sync.Mutex
	identities map[overcast.Caller]identity

	// dataScopes is where some logging trail may select data events
	// (selectors.go): elsewhere, data events are dropped on the request
	// path, as AWS records them only for the trails that ask.
	dataScopes atomic.Pointer[dataScopes]
	stop       chan struct{} // closed by Close: stops reloadSelectors
}

// NewRecorder returns a running Recorder writing to history, reading the
// trails' selectors from st, with its journal under dataDir (none when
// empty); tables are the services' authorization tables (by service ID),
// which say what resources each call touches. It first writes what a
// process killed before left in the journal. Close flushes and stops it.
func NewRecorder(st, history store.Store, dataDir string, idSource *ids.Source, now func() time.Time, logger *slog.Logger, tables map[string]*authz.Table) *Recorder {
	r := &Recorder{store: st, history: history, ids: idSource, now: now, logger: logger, tables: tables,
		queue: make(chan pending, queueSize), stopped: make(chan struct{}), flushed: make(chan chan struct{}),
		identities: map[overcast.Caller]identity{}, stop: make(chan struct{})}
	if dataDir != "" {
		dir, id, err := journalID(dataDir)
		if err == nil {
			r.journalID = id
			r.journal, err = openJournal(dir, id, history, r.writeBatch)
		}
		if err != nil {
			r.journalID = ""
			logger.Error("cloudtrail: no journal: the events of calls answered just before a crash may be lost", "err", err)
		}
	}
	r.ReloadSelectors(context.Background())
	go r.write()
	go r.reloadSelectors()
	return r
}

// Intercept is the awsproto.Interceptor that records each call.
func (r *Recorder) Intercept(ctx context.Context, c *awsproto.Call, next func(context.Context) (any, error)) (any, error) {
	out, err := next(ctx)
	caller := overcast.CallerFrom(ctx)
	category := categoryOf(c.Service.ID, c.Operation.Name)
	if !category.management && !r.dataScopes.Load().has(scopeOf(caller)) {
		return out, err // a data event no trail asks for
	}
	origin, _ := overcast.OriginFrom(ctx)
	cl := call{c: c, category: category, caller: caller, origin: origin, requestID: awsproto.RequestID(ctx), out: out, err: err}
	scope := scopeOf(caller)
	r.enqueue(pending{scope: scope, ev: r.event(&cl, scope)})
	return out, err
}

// enqueue hands p to the writer, after the journal when there is one: in
// the journal's order, which the checkpoints count on.
func (r *Recorder) enqueue(p pending) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.writeBatch([]pending{p}) // a call that outlived the shutdown still counts
		return
	}
	if j := r.journal; j != nil {
		if err := j.add(&p, r.queue); err != nil && !r.journalFailed.Swap(true) {
			r.logger.Error("cloudtrail: writing the journal: events may be lost at a crash", "err", err)
		}
		return
	}
	r.queue <- p
}

// Flush returns once every call recorded before it is in the store.
func (r *Recorder) Flush() {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return
	}
	done := make(chan struct{})
	r.flushed <- done
	<-done
}

// Close writes what is queued and stops the writer: an event whose call
// was answered before Close is never lost.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.queue)
	close(r.stop)
	r.mu.Unlock()
	<-r.stopped
	if r.journal != nil {
		return r.journal.close()
	}
	return nil
}

// write drains the queue: it takes what is waiting, up to a batch, and
// writes it in one transaction, so that a busy server writes big batches
// and an idle one writes each call at once.
func (r *Recorder) write() {
	defer close(r.stopped)
	batch := make([]pending, 0, batchSize)
	for {
		select {
		case cl, ok := <-r.queue:
			if !ok {
				return
			}
			batch = append(batch[:0], cl)
			// Calls that follow within lingerTime join the batch: one
			// transaction and one compressed segment for many events is
			// what keeps recording cheap under load (a batch per call cost
			// a third of a busy server's CPU). Flush and Close do not wait.
			linger := time.NewTimer(lingerTime)
		collect:
			for len(batch) < batchSize {
				select {
				case cl, ok := <-r.queue:
					if !ok {
						break collect
					}
					batch = append(batch, cl)
				case done := <-r.flushed:
					r.writeBatch(batch)
					clear(batch)
					batch = batch[:0]
					r.drain()
					close(done)
					break collect
				case <-linger.C:
					break collect
				}
			}
			linger.Stop()
			if len(batch) > 0 {
				r.writeBatch(batch)
			}
			clear(batch) // let the calls' inputs and outputs go
		case done := <-r.flushed:
			r.drain()
			close(done)
		}
	}
}

// drain writes everything queued now, for Flush.
func (r *Recorder) drain() {
	for {
		batch := make([]pending, 0, batchSize)
	take:
		for len(batch) < batchSize {
			select {
			case cl, ok := <-r.queue:
				if !ok {
					break take
				}
				batch = append(batch, cl)
			default:
				break take
			}
		}
		if len(batch) == 0 {
			return
		}
		r.writeBatch(batch)
	}
}

// writeBatch writes a batch of events to the history, with the journal's
// checkpoint after them in the same transaction.
func (r *Recorder) writeBatch(batch []pending) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	encoders := map[overcast.Scope]*segmentEncoder{}
	var scopes []overcast.Scope
	var last journalPos
	for i := range batch {
		scope := batch[i].scope
		e, ok := encoders[scope]
		if !ok {
			e = newSegmentEncoder(scope)
			encoders[scope] = e
			scopes = append(scopes, scope)
		}
		e.add(&batch[i].ev)
		if last.before(batch[i].pos) {
			last = batch[i].pos
		}
	}
	type segment struct {
		key   string
		value []byte
	}
	segments := make([]segment, 0, len(scopes))
	for _, scope := range scopes {
		segments = append(segments, segment{segmentKey(scope, r.nextStamp(time.Unix(encoders[scope].base, 0)), r.ids.Hex(4)), encoders[scope].finish()})
	}
	checkpoint := r.journalID != "" && last.File > 0
	err := r.history.Update(context.Background(), func(tx store.Tx) error {
		for _, sg := range segments {
			if _, err := tx.Put(eventsTable, sg.key, sg.value, store.AnyVersion); err != nil {
				return err
			}
		}
		if checkpoint {
			return putCheckpoint(tx, r.journalID, last)
		}
		return nil
	})
	if err != nil {
		r.logger.Error("cloudtrail: writing events", "events", len(batch), "err", err)
		return err
	}
	if checkpoint && r.journal != nil {
		r.journal.committed(last)
	}
	return nil
}

// nextStamp is the key stamp of a segment written now: its time in
// nanoseconds, or one more than the last stamp when the clock has not
// moved past it, so that keys follow the order of writing.
func (r *Recorder) nextStamp(t time.Time) int64 {
	s := t.UnixNano()
	if s <= r.stamp {
		s = r.stamp + 1
	}
	r.stamp = s
	return s
}

// stampKey is a stamp as keys hold it: fixed width, so that keys sort
// by it.
func stampKey(s int64) string { return fmt.Sprintf("%020d", s) }

func scopeOf(c overcast.Caller) overcast.Scope {
	region := c.Region
	if region == "" {
		region = overcast.DefaultRegion
	}
	return overcast.Scope{Account: c.AccountID, Region: region}
}

// event makes a call the event a segment stores.
func (r *Recorder) event(cl *call, scope overcast.Scope) recorded {
	c := cl.c
	at := cl.origin.Time
	if at.IsZero() {
		at = r.now()
	}
	id := r.identity(cl.caller)
	ev := recorded{
		time:              at.UTC().Truncate(time.Second),
		requestID:         cl.requestID,
		name:              c.Operation.Name,
		source:            eventSource(c.Service),
		identity:          id.json,
		username:          id.username,
		accessKeyID:       cl.caller.AccessKeyID,
		sourceIP:          cl.origin.SourceIP,
		userAgent:         cl.origin.UserAgent,
		requestParameters: awsproto.AuditJSON(c.Input),
		dataType:          cl.category.resourceType,
	}
	readOnly := isReadOnly(c.Operation.Name)
	if readOnly {
		ev.flags |= flagReadOnly
	}
	if cl.category.management {
		ev.flags |= flagManagement
	}
	if cl.origin.SecureTransport {
		ev.flags |= flagTLS
	}
	if cl.err != nil {
		ev.errorCode, ev.errorMessage = "InternalFailure", "An internal error occurred."
		if e, ok := awsproto.AsAPIError(cl.err); ok {
			ev.errorCode, ev.errorMessage = e.ErrorCode(), e.ErrorMessage()
		}
	} else if !readOnly {
		ev.responseElements = awsproto.AuditJSON(cl.out)
	}
	ev.resources = r.resources(cl, scope)
	return ev
}

// identity is how records name caller, from the writer's cache.
func (r *Recorder) identity(caller overcast.Caller) identity {
	r.identityMu.Lock()
	defer r.identityMu.Unlock()
	if id, ok := r.identities[caller]; ok {
		return id
	}
	if len(r.identities) >= maxIdentities {
		clear(r.identities)
	}
	b, _ := json.Marshal(identityOf(caller))
	id := identity{json: string(b), username: usernameOf(caller)}
	r.identities[caller] = id
	return id
}

// resources are the resources a call touched: the ARNs its service's
// authorization table names for it, typed as CloudTrail types them.
func (r *Recorder) resources(cl *call, scope overcast.Scope) []resource {
	t := r.tables[cl.c.Service.ID]
	if t == nil {
		if cl.c.Service.ID == "s3" {
			return s3Resources(cl.c.Input)
		}
		return nil
	}
	ctx := overcast.WithCaller(context.Background(), cl.caller)
	var out []resource
	for _, check := range t.Checks(ctx, cl.c.Operation.Name, authz.Scope{Region: scope.Region, AccountID: scope.Account}, cl.c.Input) {
		for _, arn := range check.Resources {
			if arn == "*" {
				continue
			}
			res := resourceOf(arn)
			if !containsResource(out, res) {
				out = append(out, res)
			}
		}
	}
	return out
}

func containsResource(rs []resource, r resource) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// resourceOf types an ARN the way CloudTrail's resource types read:
// AWS::<Service>::<Type>. S3's buckets and objects are named by their
// bucket and key, as LookupEvents shows them.
func resourceOf(arn string) resource {
	a, ok := overcast.ParseARN(arn)
	if !ok {
		return resource{Type: "AWS::Unknown", Name: arn}
	}
	if a.Service == "s3" {
		if strings.Contains(a.Resource, "/") {
			return resource{Type: "AWS::S3::Object", Name: arn}
		}
		return resource{Type: "AWS::S3::Bucket", Name: a.Resource}
	}
	kind := a.Resource
	if i := strings.IndexAny(kind, "/:"); i >= 0 {
		kind = kind[:i]
	}
	return resource{Type: "AWS::" + serviceTypeName(a.Service) + "::" + typeName(kind), Name: arn}
}

// serviceTypeName is how CloudTrail's resource types spell a service.
func serviceTypeName(service string) string {
	if n, ok := serviceTypeNames[service]; ok {
		return n
	}
	return typeName(service)
}

var serviceTypeNames = map[string]string{
	"iam": "IAM", "sts": "STS", "s3": "S3", "ecr": "ECR", "ecs": "ECS", "ec2": "EC2", "efs": "EFS", "sqs": "SQS", "sns": "SNS",
	"ssm": "SSM", "acm": "CertificateManager", "logs": "Logs", "secretsmanager": "SecretsManager", "cloudtrail": "CloudTrail",
	"elasticloadbalancing": "ElasticLoadBalancingV2", "codebuild": "CodeBuild", "codecommit": "CodeCommit",
	"cloudfront": "CloudFront", "cloudwatch": "CloudWatch", "events": "Events", "autoscaling": "AutoScaling",
	"application-autoscaling": "ApplicationAutoScaling", "lambda": "Lambda", "dynamodb": "DynamoDB", "kms": "KMS",
}

// typeName is "log-group" as "LogGroup".
func typeName(s string) string {
	var b strings.Builder
	upper := true
	for _, c := range s {
		if c == '-' || c == '_' {
			upper = true
			continue
		}
		if upper && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper = false
		b.WriteRune(c)
	}
	return b.String()
}

// eventSource is the service's name in records: its signing name under
// amazonaws.com.
func eventSource(svc *awsproto.Service) string {
	prefix := svc.SigningName // ECR's events come from ecr.amazonaws.com, not its endpoint api.ecr
	if prefix == "" {
		prefix = svc.EndpointPrefix
	}
	return prefix + ".amazonaws.com"
}

// isReadOnly says whether an operation only reads, as CloudTrail's
// readOnly field does: by the verb its name starts with.
func isReadOnly(op string) bool {
	for _, verb := range readOnlyVerbs {
		if strings.HasPrefix(op, verb) && (len(op) == len(verb) || op[len(verb)] >= 'A' && op[len(verb)] <= 'Z') {
			return true
		}
	}
	return false
}

var readOnlyVerbs = []string{"Get", "List", "Describe", "Head", "Lookup", "BatchGet", "BatchCheck", "Search", "Select", "Check", "Query",
	"Scan", "Simulate", "Test", "Validate", "Preview", "Filter", "Estimate", "Lookup", "Receive"}

// category says whether an operation's events are management events
// (event history, every trail) or data events (only trails whose
// selectors ask for them), and the resource type selectors name.
type category struct {
	name         string // "Management" or "Data"
	management   bool
	resourceType string // for data events: AWS::S3::Object ...
}

var managementEvent = category{name: "Management", management: true}

func categoryOf(service, op string) category {
	if t, ok := dataEvents[service]; ok {
		if t.ops(op) {
			return category{name: "Data", resourceType: t.resourceType}
		}
	}
	return managementEvent
}

// dataEvents are the operations CloudTrail records as data events, by
// service: S3's object-level calls, SQS's and SNS's messages, Lambda's
// invocations.
var dataEvents = map[string]struct {
	resourceType string
	ops          func(op string) bool
}{
	"s3": {"AWS::S3::Object", func(op string) bool {
		return strings.Contains(op, "Object") && op != "ListObjects" && op != "ListObjectsV2" && op != "ListObjectVersions" ||
			strings.Contains(op, "MultipartUpload") && op != "ListMultipartUploads" || op == "UploadPart" || op == "UploadPartCopy" || op == "ListParts"
	}},
	"sqs": {"AWS::SQS::Queue", func(op string) bool {
		return strings.Contains(op, "Message")
	}},
	"sns": {"AWS::SNS::Topic", func(op string) bool { return op == "Publish" || op == "PublishBatch" }},
	"lambda": {"AWS::Lambda::Function", func(op string) bool {
		return op == "Invoke" || op == "InvokeAsync" || op == "InvokeWithResponseStream"
	}},
}

// identityOf is the caller as a record's userIdentity describes it.
func identityOf(c overcast.Caller) userIdentity {
	id := userIdentity{PrincipalID: c.UserID, ARN: c.ARN, AccountID: c.AccountID, AccessKeyID: c.AccessKeyID}
	switch c.Kind {
	case overcast.PrincipalRoot:
		id.Type, id.PrincipalID = "Root", c.AccountID
	case overcast.PrincipalUser:
		id.Type, id.UserName = "IAMUser", resourceName(c.ARN)
	case overcast.PrincipalAssumedRole:
		id.Type = "AssumedRole"
		roleID, _, _ := strings.Cut(c.UserID, ":")
		id.SessionContext = &sessionContext{
			SessionIssuer: sessionIssuer{Type: "Role", PrincipalID: roleID, ARN: c.RoleARN, AccountID: c.AccountID, UserName: resourceName(c.RoleARN)},
			Attributes:    map[string]string{"mfaAuthenticated": "false"},
		}
	case overcast.PrincipalFederated:
		id.Type = "FederatedUser"
		id.SessionContext = &sessionContext{
			SessionIssuer: sessionIssuer{Type: "IAMUser", PrincipalID: c.AccountID, ARN: c.RoleARN, AccountID: c.AccountID, UserName: resourceName(c.RoleARN)},
			Attributes:    map[string]string{"mfaAuthenticated": "false"},
		}
	case overcast.PrincipalAnonymous:
		id = userIdentity{Type: "AWSAccount", AccountID: "anonymous"}
	default:
		id.Type = "Unknown"
	}
	return id
}

// usernameOf is the caller's name as LookupEvents' Username attribute
// matches it: the user's name, the role session's name, "root".
func usernameOf(c overcast.Caller) string {
	switch c.Kind {
	case overcast.PrincipalRoot:
		return "root"
	case overcast.PrincipalAnonymous:
		return ""
	}
	return resourceName(c.ARN)
}

// resourceName is the last path element of an ARN's resource:
// "alice" of user/dev/alice, the session of assumed-role/role/session.
func resourceName(arn string) string {
	a, ok := overcast.ParseARN(arn)
	if !ok {
		return ""
	}
	return a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
}

// s3Resources are the bucket and object an S3 call names, for when S3
// declares no authorization table to say so.
func s3Resources(in any) []resource {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	field := func(name string) string {
		f := v.Elem().FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
			return ""
		}
		return f.Elem().String()
	}
	bucket, key := field("Bucket"), field("Key")
	switch {
	case bucket == "":
		return nil
	case key == "":
		return []resource{{Type: "AWS::S3::Bucket", Name: bucket}}
	}
	return []resource{{Type: "AWS::S3::Bucket", Name: bucket}, {Type: "AWS::S3::Object", Name: "arn:aws:s3:::" + bucket + "/" + key}}
}
