package sns_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

func start(t *testing.T) (*awstest.Server, *sns.Client, *clock.Fake) {
	t.Helper()
	return awstest.StartClient(t, time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), sns.NewFromConfig)
}

const account = "000000000000"

func TestTopics(t *testing.T) {
	_, c, _ := start(t)
	created := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("orders"),
		Attributes: map[string]string{"DisplayName": "Orders"}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})
	arn := aws.ToString(created.TopicArn)
	if want := "arn:aws:sns:us-east-1:" + account + ":orders"; arn != want {
		t.Fatalf("TopicArn: got %s, want %s", arn, want)
	}
	again := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("orders"), Attributes: map[string]string{"DisplayName": "Orders"}})
	if aws.ToString(again.TopicArn) != arn {
		t.Errorf("CreateTopic again: got %s, want the same topic %s", aws.ToString(again.TopicArn), arn)
	}
	fifo := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("jobs.fifo"),
		Attributes: map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"}})

	attrs := awstest.Call(t, c.GetTopicAttributes, &sns.GetTopicAttributesInput{TopicArn: &arn}).Attributes
	for k, want := range map[string]string{"TopicArn": arn, "Owner": account, "DisplayName": "Orders",
		"SubscriptionsConfirmed": "0", "SubscriptionsPending": "0", "SubscriptionsDeleted": "0"} {
		if attrs[k] != want {
			t.Errorf("attribute %s: got %q, want %q", k, attrs[k], want)
		}
	}
	var pol struct {
		Statement []struct {
			Principal map[string]string
			Resource  string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(attrs["Policy"]), &pol); err != nil || len(pol.Statement) != 1 ||
		pol.Statement[0].Resource != arn || pol.Statement[0].Condition["StringEquals"]["AWS:SourceOwner"] != account {
		t.Errorf("default Policy: got %s, want AWS's default statement for the owner", attrs["Policy"])
	}
	if !strings.Contains(attrs["EffectiveDeliveryPolicy"], `"numRetries":3`) {
		t.Errorf("EffectiveDeliveryPolicy: got %s, want the HTTP default", attrs["EffectiveDeliveryPolicy"])
	}
	fattrs := awstest.Call(t, c.GetTopicAttributes, &sns.GetTopicAttributesInput{TopicArn: fifo.TopicArn}).Attributes
	if fattrs["FifoTopic"] != "true" || fattrs["ContentBasedDeduplication"] != "true" {
		t.Errorf("FIFO attributes: got %v", fattrs)
	}

	awstest.Call(t, c.SetTopicAttributes, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("New")})
	role := "arn:aws:iam::" + account + ":role/sns-logs"
	awstest.Call(t, c.SetTopicAttributes, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("SQSSuccessFeedbackRoleArn"), AttributeValue: &role})
	if got := awstest.Call(t, c.GetTopicAttributes, &sns.GetTopicAttributesInput{TopicArn: &arn}).Attributes; got["SQSSuccessFeedbackRoleArn"] != role || got["DisplayName"] != "New" {
		t.Errorf("after SetTopicAttributes: got %v", got)
	}
	awstest.Call(t, c.TagResource, &sns.TagResourceInput{ResourceArn: &arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	awstest.Call(t, c.UntagResource, &sns.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"team"}})
	tags := awstest.Call(t, c.ListTagsForResource, &sns.ListTagsForResourceInput{ResourceArn: &arn}).Tags
	if got := awstest.Strings(tags, func(tg types.Tag) *string { return tg.Key }); !cmp.Equal(got, []string{"env"}) {
		t.Errorf("tags: got %v, want [env]", got)
	}

	list := awstest.Call(t, c.ListTopics, &sns.ListTopicsInput{})
	if got := awstest.Strings(list.Topics, func(tp types.Topic) *string { return tp.TopicArn }); !cmp.Equal(got, []string{aws.ToString(fifo.TopicArn), arn}) {
		t.Errorf("ListTopics: got %v", got)
	}
	awstest.Call(t, c.DeleteTopic, &sns.DeleteTopicInput{TopicArn: &arn})
	awstest.Call(t, c.DeleteTopic, &sns.DeleteTopicInput{TopicArn: &arn}) // idempotent
	_, err := c.GetTopicAttributes(context.Background(), &sns.GetTopicAttributesInput{TopicArn: &arn})
	awstest.WantAPIError(t, err, awstest.NotFound("NotFound", "Topic does not exist"))
}

func TestErrors(t *testing.T) {
	_, c, _ := start(t)
	arn := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("t")}).TopicArn
	fifo := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("f.fifo"), Attributes: map[string]string{"FifoTopic": "true"}}).TopicArn
	missing := aws.String("arn:aws:sns:us-east-1:" + account + ":missing")
	invalid := func(msg string) awstest.APIError {
		return awstest.BadRequest("InvalidParameter", "Invalid parameter: "+msg)
	}
	valueInvalid := func(msg string) awstest.APIError { return awstest.BadRequest("ParameterValueInvalid", msg) }
	publishAttr := func(name, dataType, value string) func(context.Context) error {
		return awstest.Fails(c.Publish, &sns.PublishInput{TopicArn: arn, Message: aws.String("m"),
			MessageAttributes: map[string]types.MessageAttributeValue{name: {DataType: &dataType, StringValue: &value}}})
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "bad topic name", Call: awstest.Fails(c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("a b")}), Want: invalid("Topic Name")},
		{Name: "fifo without suffix", Call: awstest.Fails(c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("x"), Attributes: map[string]string{"FifoTopic": "true"}}),
			Want: invalid("Fifo Topic names must end with .fifo")},
		{Name: "different attributes", Call: awstest.Fails(c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("t"), Attributes: map[string]string{"DisplayName": "x"}}),
			Want: invalid("Attributes Reason: Topic already exists with different attributes")},
		{Name: "missing topic", Call: awstest.Fails(c.Publish, &sns.PublishInput{TopicArn: missing, Message: aws.String("m")}), Want: awstest.NotFound("NotFound", "Topic does not exist")},
		{Name: "empty message", Call: awstest.Fails(c.Publish, &sns.PublishInput{TopicArn: arn, Message: aws.String("")}), Want: invalid("Empty message")},
		{Name: "bad attribute type", Call: publishAttr("a", "Blob", "x"),
			Want: valueInvalid("The message attribute 'a' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.")},
		{Name: "empty attribute", Call: publishAttr("a", "String.tag", ""),
			Want: valueInvalid("The message attribute 'a' must contain non-empty message attribute value for message attribute type 'String.tag'.")},
		{Name: "binary attribute as string", Call: publishAttr("a", "Binary", "x"),
			Want: valueInvalid("The message attribute 'a' with type 'Binary' must use field 'Binary'.")},
		{Name: "attribute name", Call: publishAttr("a..b", "String", "x"), Want: valueInvalid("Message attribute name can not have successive '.' character.")},
		{Name: "empty subject", Call: awstest.Fails(c.Publish, &sns.PublishInput{TopicArn: arn, Message: aws.String("m"), Subject: aws.String("")}),
			Want: invalid("Subject")},
		{Name: "json without default", Call: awstest.Fails(c.Publish, &sns.PublishInput{TopicArn: arn, Message: aws.String(`{"sqs":"x"}`), MessageStructure: aws.String("json")}),
			Want: invalid("Message Structure - No default entry in JSON message body")},
		{Name: "fifo without group", Call: awstest.Fails(c.Publish, &sns.PublishInput{TopicArn: fifo, Message: aws.String("m"), MessageDeduplicationId: aws.String("d")}),
			Want: invalid("The MessageGroupId parameter is required for FIFO topics")},
		{Name: "fifo without dedup", Call: awstest.Fails(c.Publish, &sns.PublishInput{TopicArn: fifo, Message: aws.String("m"), MessageGroupId: aws.String("g")}),
			Want: invalid("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")},
		{Name: "standard topic to fifo queue", Call: awstest.Fails(c.Subscribe, &sns.SubscribeInput{TopicArn: arn, Protocol: aws.String("sqs"),
			Endpoint: aws.String("arn:aws:sqs:us-east-1:" + account + ":q.fifo")}),
			Want: invalid("Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")},
		{Name: "fifo topic to http", Call: awstest.Fails(c.Subscribe, &sns.SubscribeInput{TopicArn: fifo, Protocol: aws.String("http"),
			Endpoint: aws.String("http://127.0.0.1/")}), Want: invalid("Invalid protocol type: http")},
		{Name: "raw email", Call: awstest.Fails(c.Subscribe, &sns.SubscribeInput{TopicArn: arn, Protocol: aws.String("email"), Endpoint: aws.String("a@example.com"),
			Attributes: map[string]string{"RawMessageDelivery": "true"}}), Want: invalid("Attributes Reason: Delivery protocol [email] does not support raw message delivery.")},
		{Name: "duplicate tag keys", Call: awstest.Fails(c.TagResource, &sns.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{
			{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}}), Want: invalid("Duplicated keys are not allowed.")},
		{Name: "unknown protocol", Call: awstest.Fails(c.Subscribe, &sns.SubscribeInput{TopicArn: arn, Protocol: aws.String("pigeon"), Endpoint: aws.String("x")}),
			Want: invalid("Amazon SNS does not support this protocol string: pigeon")},
		{Name: "http endpoint for https", Call: awstest.Fails(c.Subscribe, &sns.SubscribeInput{TopicArn: arn, Protocol: aws.String("https"), Endpoint: aws.String("http://127.0.0.1/")}),
			Want: invalid("Endpoint must match the specified protocol")},
		{Name: "bad filter policy", Call: awstest.Fails(c.Subscribe, &sns.SubscribeInput{TopicArn: arn, Protocol: aws.String("email"), Endpoint: aws.String("a@example.com"),
			Attributes: map[string]string{"FilterPolicy": `{"a":[{"regex":"x"}]}`}}), Want: invalid("Attributes Reason: FilterPolicy: Unrecognized match type regex")},
		{Name: "bad token", Call: awstest.Fails(c.ConfirmSubscription, &sns.ConfirmSubscriptionInput{TopicArn: arn, Token: aws.String("nope")}), Want: invalid("Token")},
		{Name: "missing subscription", Call: awstest.Fails(c.GetSubscriptionAttributes, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(aws.ToString(arn) + ":0b0e4a52-0000-4000-8000-000000000000")}),
			Want: awstest.NotFound("NotFound", "Subscription does not exist")},
		{Name: "empty batch", Call: awstest.Fails(c.PublishBatch, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{}}),
			Want: awstest.BadRequest("EmptyBatchRequest", "")},
		{Name: "duplicate batch ids", Call: awstest.Fails(c.PublishBatch, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
			{Id: aws.String("a"), Message: aws.String("x")}, {Id: aws.String("a"), Message: aws.String("y")}}}),
			Want: awstest.BadRequest("BatchEntryIdsNotDistinct", "")},
		{Name: "tags of missing topic", Call: awstest.Fails(c.ListTagsForResource, &sns.ListTagsForResourceInput{ResourceArn: missing}),
			Want: awstest.NotFound("ResourceNotFound", "Resource does not exist")},
	})
}

// endpoint is an HTTP subscriber: it records every POST.
type endpoint struct {
	*httptest.Server
	mu    sync.Mutex
	posts []post
}

type post struct {
	header http.Header
	body   string
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.posts = append(e.posts, post{r.Header.Clone(), string(b)})
		e.mu.Unlock()
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) received() []post {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]post(nil), e.posts...)
}

func (e *endpoint) waitFor(t *testing.T, n int) []post {
	t.Helper()
	awstest.WaitFor(t, "posts to the endpoint", func() bool { return len(e.received()) >= n })
	return e.received()
}

// confirmedEndpoint subscribes a new HTTP endpoint to topic and confirms
// the subscription with the token it receives.
func confirmedEndpoint(t *testing.T, c *sns.Client, topic *string, attrs map[string]string) *endpoint {
	t.Helper()
	ep := newEndpoint(t)
	awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("http"), Endpoint: &ep.URL, Attributes: attrs})
	conf := decode(t, ep.waitFor(t, 1)[0].body)
	awstest.Call(t, c.ConfirmSubscription, &sns.ConfirmSubscriptionInput{TopicArn: topic, Token: aws.String(conf["Token"])})
	return ep
}

// verify checks an envelope's signature as a subscriber does: fetch the
// certificate at SigningCertURL and check the string to sign with it.
func verify(t *testing.T, msg map[string]string) {
	t.Helper()
	resp, err := http.Get(msg["SigningCertURL"])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	pemBytes, _ := io.ReadAll(resp.Body)
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatalf("SigningCertURL %s: got %q, want a PEM certificate", msg["SigningCertURL"], pemBytes)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	fields := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if msg["Type"] != "Notification" {
		fields = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var text strings.Builder
	for _, f := range fields {
		if v, ok := msg[f]; ok {
			text.WriteString(f + "\n" + v + "\n")
		}
	}
	sig, err := base64.StdEncoding.DecodeString(msg["Signature"])
	if err != nil {
		t.Fatal(err)
	}
	hash, digest := crypto.SHA1, sha1Digest(text.String())
	if msg["SignatureVersion"] == "2" {
		hash, digest = crypto.SHA256, sha256Digest(text.String())
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), hash, digest, sig); err != nil {
		t.Errorf("signature of %s (version %s): %v", msg["Type"], msg["SignatureVersion"], err)
	}
}

func sha1Digest(s string) []byte   { h := sha1.Sum([]byte(s)); return h[:] }
func sha256Digest(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func decode(t *testing.T, body string) map[string]string {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatalf("envelope %q: %v", body, err)
	}
	out := map[string]string{}
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func TestHTTPSubscription(t *testing.T) {
	ctx := context.Background()
	_, c, _ := start(t)
	for _, version := range []string{"1", "2"} {
		t.Run("SignatureVersion "+version, func(t *testing.T) {
			ep := newEndpoint(t)
			topic := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("web" + version),
				Attributes: map[string]string{"SignatureVersion": version}}).TopicArn
			sub := awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("http"), Endpoint: aws.String(ep.URL + "/hook")})
			if got := aws.ToString(sub.SubscriptionArn); got != "pending confirmation" {
				t.Errorf("SubscriptionArn: got %s, want pending confirmation", got)
			}
			conf := ep.waitFor(t, 1)[0]
			if got := conf.header.Get("x-amz-sns-message-type"); got != "SubscriptionConfirmation" {
				t.Errorf("x-amz-sns-message-type: got %s", got)
			}
			if conf.header.Get("x-amz-sns-subscription-arn") != "" || conf.header.Get("x-amz-sns-topic-arn") != aws.ToString(topic) {
				t.Errorf("confirmation headers: got %v", conf.header)
			}
			cm := decode(t, conf.body)
			verify(t, cm)
			if !strings.Contains(cm["Message"], "You have chosen to subscribe to the topic "+aws.ToString(topic)) || cm["Token"] == "" {
				t.Errorf("confirmation: got %v", cm)
			}

			// The endpoint confirms as a subscriber does: GET SubscribeURL.
			resp, err := http.Get(cm["SubscribeURL"])
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), "<SubscriptionArn>"+aws.ToString(topic)+":") {
				t.Fatalf("GET SubscribeURL: got %d %s", resp.StatusCode, body)
			}
			subs := awstest.Call(t, c.ListSubscriptionsByTopic, &sns.ListSubscriptionsByTopicInput{TopicArn: topic}).Subscriptions
			if len(subs) != 1 || !strings.HasPrefix(aws.ToString(subs[0].SubscriptionArn), aws.ToString(topic)+":") {
				t.Fatalf("subscriptions: got %v", awstest.Strings(subs, func(s types.Subscription) *string { return s.SubscriptionArn }))
			}
			subARN := subs[0].SubscriptionArn

			pub := awstest.Call(t, c.Publish, &sns.PublishInput{TopicArn: topic, Message: aws.String("build <failed> & retried"), Subject: aws.String("Build"),
				MessageAttributes: map[string]types.MessageAttributeValue{"status": {DataType: aws.String("String"), StringValue: aws.String("FAILED")}}})
			n := ep.waitFor(t, 2)[1]
			want := map[string]string{"x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": aws.ToString(pub.MessageId),
				"x-amz-sns-topic-arn": aws.ToString(topic), "x-amz-sns-subscription-arn": aws.ToString(subARN),
				"Content-Type": "text/plain; charset=UTF-8", "User-Agent": "Amazon Simple Notification Service Agent"}
			for k, v := range want {
				if got := n.header.Get(k); got != v {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
			if !strings.Contains(n.body, `"Message":"build <failed> & retried"`) ||
				!strings.Contains(n.body, `"MessageAttributes":{"status":{"Type":"String","Value":"FAILED"}}`) {
				t.Errorf("notification body: got %s", n.body)
			}
			nm := decode(t, n.body)
			verify(t, nm)
			if nm["SignatureVersion"] != version || nm["Subject"] != "Build" || nm["MessageId"] != aws.ToString(pub.MessageId) ||
				!strings.Contains(nm["UnsubscribeURL"], "Action=Unsubscribe") || nm["Timestamp"] != "2025-06-01T10:00:00.000Z" {
				t.Errorf("notification: got %v", nm)
			}

			awstest.Call(t, c.SetSubscriptionAttributes, &sns.SetSubscriptionAttributesInput{SubscriptionArn: subARN,
				AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")})
			awstest.Call(t, c.Publish, &sns.PublishInput{TopicArn: topic, Message: aws.String("bare")})
			rawPost := ep.waitFor(t, 3)[2]
			if rawPost.body != "bare" || rawPost.header.Get("x-amz-sns-rawdelivery") != "true" {
				t.Errorf("raw delivery: got %q %v", rawPost.body, rawPost.header)
			}

			// UnsubscribeURL ends the subscription.
			resp, err = http.Get(nm["UnsubscribeURL"])
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			_, err = c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: subARN})
			awstest.WantAPIError(t, err, awstest.NotFound("NotFound", "Subscription does not exist"))
		})
	}
}

func TestHTTPRetriesUntilDelivered(t *testing.T) {
	_, c, clk := start(t)
	var mu sync.Mutex
	failures := 2
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("x-amz-sns-message-type") == "Notification" && failures > 0 {
			failures--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		bodies = append(bodies, string(b))
	}))
	defer srv.Close()
	topic := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("retry")}).TopicArn
	sub := awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("http"), Endpoint: aws.String(srv.URL),
		ReturnSubscriptionArn: true})
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(bodies) }
	awstest.WaitFor(t, "the confirmation", func() bool { return count() == 1 })
	mu.Lock()
	token := decode(t, bodies[0])["Token"]
	mu.Unlock()
	confirmed := awstest.Call(t, c.ConfirmSubscription, &sns.ConfirmSubscriptionInput{TopicArn: topic, Token: &token})
	if aws.ToString(confirmed.SubscriptionArn) != aws.ToString(sub.SubscriptionArn) {
		t.Errorf("ConfirmSubscription: got %s, want %s", aws.ToString(confirmed.SubscriptionArn), aws.ToString(sub.SubscriptionArn))
	}
	attrs := awstest.Call(t, c.GetSubscriptionAttributes, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn}).Attributes
	if attrs["PendingConfirmation"] != "false" || attrs["ConfirmationWasAuthenticated"] != "true" {
		t.Errorf("after ConfirmSubscription: got %v", attrs)
	}
	awstest.Call(t, c.Publish, &sns.PublishInput{TopicArn: topic, Message: aws.String("eventually")})
	awstest.WaitFor(t, "a failed attempt", func() bool { mu.Lock(); defer mu.Unlock(); return failures < 2 })
	if count() != 1 {
		t.Fatalf("got %d posts, want the confirmation only: the message failed", count())
	}
	// Retries wait the default policy's 20 seconds; the clock moves until
	// the endpoint recovers.
	awstest.WaitFor(t, "the delivery after two failures", func() bool {
		clk.Advance(5 * time.Second)
		return count() == 2
	})
	mu.Lock()
	defer mu.Unlock()
	if failures != 0 || decode(t, bodies[1])["Message"] != "eventually" {
		t.Errorf("got %d failures left and %s, want the message after both failures", failures, bodies[1])
	}
}

func TestEmailRecorded(t *testing.T) {
	srv, c, _ := start(t)
	topic := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("mail")}).TopicArn
	awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("email"), Endpoint: aws.String("ops@example.com")})
	emails := func() []map[string]string {
		resp, err := http.Get(srv.URL + "/_overcast/sns/email?to=ops@example.com")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Emails []map[string]any }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		var list []map[string]string
		for _, e := range out.Emails {
			m := map[string]string{}
			for k, v := range e {
				m[k], _ = v.(string)
			}
			list = append(list, m)
		}
		return list
	}
	awstest.WaitFor(t, "the confirmation email", func() bool { return len(emails()) == 1 })
	conf := emails()[0]
	if conf["subject"] != "AWS Notification - Subscription Confirmation" || conf["type"] != "SubscriptionConfirmation" {
		t.Errorf("confirmation email: got %v", conf)
	}
	i := strings.Index(conf["body"], "http://")
	link := strings.TrimSpace(conf["body"][i:])
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("confirm link %s: got %d", link, resp.StatusCode)
	}
	awstest.Call(t, c.Publish, &sns.PublishInput{TopicArn: topic, Message: aws.String("disk full"), Subject: aws.String("Alarm")})
	awstest.WaitFor(t, "the notification email", func() bool { return len(emails()) == 2 })
	got := emails()[1]
	if got["subject"] != "Alarm" || !strings.HasPrefix(got["body"], "disk full\n") || got["to"] != "ops@example.com" {
		t.Errorf("notification email: got %v", got)
	}
}

func TestPublishBatch(t *testing.T) {
	_, c, _ := start(t)
	topic := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("b.fifo"),
		Attributes: map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"}}).TopicArn
	out := awstest.Call(t, c.PublishBatch, &sns.PublishBatchInput{TopicArn: topic, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("one"), Message: aws.String("1"), MessageGroupId: aws.String("g")},
		{Id: aws.String("two"), Message: aws.String("2"), MessageGroupId: aws.String("g")},
		{Id: aws.String("dup"), Message: aws.String("1"), MessageGroupId: aws.String("g")},
	}})
	if len(out.Successful) != 3 || len(out.Failed) != 0 {
		t.Fatalf("PublishBatch: got %d successful, failed %+v", len(out.Successful), out.Failed)
	}
	one, two, dup := out.Successful[0], out.Successful[1], out.Successful[2]
	if aws.ToString(one.MessageId) != aws.ToString(dup.MessageId) || aws.ToString(one.SequenceNumber) == "" ||
		aws.ToString(two.SequenceNumber) <= aws.ToString(one.SequenceNumber) {
		t.Errorf("sequence numbers: got %s, %s and %s for the duplicate of the first, want the first's again",
			aws.ToString(one.SequenceNumber), aws.ToString(two.SequenceNumber), aws.ToString(dup.SequenceNumber))
	}
	// One invalid entry fails the whole batch.
	_, err := c.PublishBatch(context.Background(), &sns.PublishBatchInput{TopicArn: topic, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("ok"), Message: aws.String("x"), MessageGroupId: aws.String("g")}, {Id: aws.String("nogroup"), Message: aws.String("y")}}})
	awstest.WantAPIError(t, err, awstest.BadRequest("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"))
}

func TestPermissions(t *testing.T) {
	_, c, _ := start(t)
	topic := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("shared")}).TopicArn
	awstest.Call(t, c.AddPermission, &sns.AddPermissionInput{TopicArn: topic, Label: aws.String("Partner"),
		AWSAccountId: []string{"111122223333"}, ActionName: []string{"Publish"}})
	_, err := c.AddPermission(context.Background(), &sns.AddPermissionInput{TopicArn: topic, Label: aws.String("Partner"),
		AWSAccountId: []string{"111122223333"}, ActionName: []string{"Publish"}})
	awstest.WantAPIError(t, err, awstest.BadRequest("InvalidParameter", "Statement already exists"))
	pol := awstest.Call(t, c.GetTopicAttributes, &sns.GetTopicAttributesInput{TopicArn: topic}).Attributes["Policy"]
	if !strings.Contains(pol, `"Sid":"Partner"`) || !strings.Contains(pol, "arn:aws:iam::111122223333:root") || !strings.Contains(pol, `"SNS:Publish"`) {
		t.Errorf("policy after AddPermission: got %s", pol)
	}
	awstest.Call(t, c.RemovePermission, &sns.RemovePermissionInput{TopicArn: topic, Label: aws.String("Partner")})
	pol = awstest.Call(t, c.GetTopicAttributes, &sns.GetTopicAttributesInput{TopicArn: topic}).Attributes["Policy"]
	if strings.Contains(pol, "Partner") {
		t.Errorf("policy after RemovePermission: got %s", pol)
	}
}

// A message accepted while its endpoint is down is delivered after
// overcast restarts: deliveries are records, not goroutines.
func TestDeliverySurvivesRestart(t *testing.T) {
	srv, c, clk := start(t)
	var mu sync.Mutex
	down := false
	var got []string
	ep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if down {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		got = append(got, string(b))
	}))
	defer ep.Close()
	received := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	topic := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("durable")}).TopicArn
	awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("http"), Endpoint: &ep.URL})
	awstest.WaitFor(t, "the confirmation", func() bool { return received() == 1 })
	mu.Lock()
	token := decode(t, got[0])["Token"]
	down = true
	mu.Unlock()
	awstest.Call(t, c.ConfirmSubscription, &sns.ConfirmSubscriptionInput{TopicArn: topic, Token: &token})
	pub := awstest.Call(t, c.Publish, &sns.PublishInput{TopicArn: topic, Message: aws.String("kept across restarts")})

	srv.Restart(t)
	mu.Lock()
	down = false
	mu.Unlock()
	// Delivery is at least once: what was under way at the restart may
	// come again, so look for the message among what arrives.
	var m map[string]string
	awstest.WaitFor(t, "the delivery after the restart", func() bool {
		clk.Advance(5 * time.Second)
		mu.Lock()
		defer mu.Unlock()
		for _, body := range got[1:] {
			if b := decode(t, body); b["Type"] == "Notification" {
				m = b
			}
		}
		return m != nil
	})
	if m["MessageId"] != aws.ToString(pub.MessageId) || !strings.HasPrefix(m["SigningCertURL"], srv.URL) {
		t.Errorf("after the restart: got %v, want message %s signed by the restarted server", m, aws.ToString(pub.MessageId))
	}
}
