package sqs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"overcast/internal/awstest"
)

// queryCall sends one query-protocol request (as the aws CLI v2 before
// 2.13 does) to path and returns the status and body.
func queryCall(t *testing.T, srv *awstest.Server, path string, form url.Values) (int, string) {
	t.Helper()
	form.Set("Version", "2012-11-05")
	body := form.Encode()
	req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req,
		hex.EncodeToString(sum[:]), "sqs", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestQueryProtocol(t *testing.T) {
	srv := awstest.Start(t)
	status, body := queryCall(t, srv, "/", url.Values{"Action": {"CreateQueue"}, "QueueName": {"legacy"},
		"Attribute.1.Name": {"VisibilityTimeout"}, "Attribute.1.Value": {"60"}, "Tag.1.Key": {"team"}, "Tag.1.Value": {"a"}})
	queueURL := srv.URL + "/000000000000/legacy"
	if status != 200 || !strings.Contains(body, "<CreateQueueResult><QueueUrl>"+queueURL+"</QueueUrl></CreateQueueResult>") {
		t.Fatalf("CreateQueue: %d %s", status, body)
	}
	// The queue's URL is a path requests may be sent to.
	status, body = queryCall(t, srv, "/000000000000/legacy", url.Values{"Action": {"SendMessage"}, "QueueUrl": {queueURL},
		"MessageBody": {"derp"}, "MessageAttribute.1.Name": {"timestamp"},
		"MessageAttribute.1.Value.DataType": {"Number"}, "MessageAttribute.1.Value.StringValue": {"1493147359900"}})
	for _, want := range []string{"<MD5OfMessageBody>58fd9edd83341c29f1aebba81c31e257</MD5OfMessageBody>",
		"<MD5OfMessageAttributes>235c5c510d26fb653d073faed50ae77c</MD5OfMessageAttributes>"} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("SendMessage: got %d %s, want %s", status, body, want)
		}
	}
	status, body = queryCall(t, srv, "/", url.Values{"Action": {"ReceiveMessage"}, "QueueUrl": {queueURL},
		"AttributeName.1": {"ApproximateReceiveCount"}, "MessageAttributeName.1": {"All"}})
	for _, want := range []string{"<ReceiveMessageResult><Message>", "<Body>derp</Body>",
		"<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>",
		"<MessageAttribute><Name>timestamp</Name><Value><StringValue>1493147359900</StringValue><DataType>Number</DataType></Value></MessageAttribute>"} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("ReceiveMessage: got %d %s, want %s", status, body, want)
		}
	}
	status, body = queryCall(t, srv, "/", url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"missing"}})
	if status != 400 || !strings.Contains(body, "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>") {
		t.Errorf("GetQueueUrl of a missing queue: got %d %s", status, body)
	}
}
