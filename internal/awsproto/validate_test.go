package awsproto_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/api"
	"overcast/internal/api/cloudfront"
	"overcast/internal/api/codepipeline"
	"overcast/internal/api/ec2"
	"overcast/internal/api/ecr"
	"overcast/internal/api/iam"
	"overcast/internal/api/lambda"
	"overcast/internal/api/logs"
	"overcast/internal/api/route53"
	"overcast/internal/api/s3"
	"overcast/internal/api/secretsmanager"
	"overcast/internal/api/sqs"
	"overcast/internal/api/ssm"
	"overcast/internal/api/sts"
	"overcast/internal/awsproto"
	"overcast/internal/awsproto/wiretest"
)

// request builds one request of a service in the protocol it speaks.
type request func(svc *awsproto.Service) *http.Request

// jsonCall is an awsJson request: the operation in X-Amz-Target.
func jsonCall(op string, body any) request {
	return func(svc *awsproto.Service) *http.Request {
		b, err := json.Marshal(body)
		if err != nil {
			panic(err)
		}
		r := httptest.NewRequest("POST", "/", strings.NewReader(string(b)))
		r.Header.Set("Content-Type", "application/x-amz-json-"+svc.JSONVersion)
		r.Header.Set("X-Amz-Target", svc.TargetPrefix+"."+op)
		return r
	}
}

// formCall is a query or ec2 request: the operation in Action.
func formCall(op string, params ...string) request {
	return func(svc *awsproto.Service) *http.Request {
		form := url.Values{"Action": {op}, "Version": {svc.APIVersion}}
		for i := 0; i+1 < len(params); i += 2 {
			form.Add(params[i], params[i+1])
		}
		r := httptest.NewRequest("POST", "/", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
}

// restCall is a rest-json or rest-xml request.
func restCall(method, path, contentType, body string, header ...string) request {
	return func(*awsproto.Service) *http.Request {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r
	}
}

// numbered is "prefix0" .. "prefix<n-1>".
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i)
	}
	return out
}

// TestModelValidation sends requests that break their model to real
// services, in every protocol, and compares the answer with AWS's. Where a
// message was recorded from AWS the case says where; the codec is the only
// thing that runs, since the handlers have no implementation (a request
// that passes validation gets NotImplemented).
func TestModelValidation(t *testing.T) {
	long := strings.Repeat("r", 65)
	badTags := []string{"Action", "TagUser", "UserName", "u"}
	for i := 1; i <= 11; i++ {
		badTags = append(badTags, fmt.Sprintf("Tags.member.%d.Key", i), "bad*", fmt.Sprintf("Tags.member.%d.Value", i), "v")
	}
	var tagKeyProblems []string
	for i := 1; i <= 10; i++ {
		tagKeyProblems = append(tagKeyProblems, fmt.Sprintf(`Value 'bad*' at 'tags.%d.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`, i))
	}
	fiftyOneTags := []string{"UserName", "u"}
	for i := 1; i <= 51; i++ {
		fiftyOneTags = append(fiftyOneTags, fmt.Sprintf("Tags.member.%d.Key", i), fmt.Sprint("k", i), fmt.Sprintf("Tags.member.%d.Value", i), "v")
	}
	imageIDs := make([]map[string]string, 101)
	for i := range imageIDs {
		imageIDs[i] = map[string]string{"imageTag": fmt.Sprint("t", i)}
	}

	tests := []struct {
		name    string
		svc     *awsproto.Service
		req     request
		status  int
		code    string
		message string
	}{
		// json
		{"logs: a member's pattern before its length (fluent-plugin-cloudwatch-logs#223)", logs.Service,
			jsonCall("DescribeLogGroups", map[string]any{"logGroupNamePrefix": ""}), 400, "InvalidParameterException",
			`2 validation errors detected: Value '' at 'logGroupNamePrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+; Value '' at 'logGroupNamePrefix' failed to satisfy constraint: Member must have length greater than or equal to 1`},
		{"logs: pattern (crossfeed#374)", logs.Service,
			jsonCall("PutLogEvents", map[string]any{"logGroupName": "g", "logStreamName": "worker/main/arn:aws:ecs:us-east-1:957221700844:task/cedfef6d",
				"logEvents": []map[string]any{{"timestamp": 1, "message": "m"}}}), 400, "InvalidParameterException",
			`1 validation error detected: Value 'worker/main/arn:aws:ecs:us-east-1:957221700844:task/cedfef6d' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`},
		{"logs: a structure element's member", logs.Service,
			jsonCall("PutLogEvents", map[string]any{"logGroupName": "g", "logStreamName": "s",
				"logEvents": []map[string]any{{"timestamp": 1, "message": "m"}, {"timestamp": 2, "message": ""}}}), 400, "InvalidParameterException",
			`1 validation error detected: Value '' at 'logEvents.2.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1`},
		{"logs: map keys and values as one, keys first", logs.Service,
			jsonCall("TagResource", map[string]any{"resourceArn": "arn:aws:logs:us-east-1:000000000000:log-group:g", "tags": map[string]string{"b": "x*", "a*": "1"}}), 400, "InvalidParameterException",
			`2 validation errors detected: Value '{a*=1, b=x*}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$]; ` +
				`Value '{a*=1, b=x*}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$]`},
		{"ssm: a list's length, its value printed", ssm.Service,
			jsonCall("GetParameters", map[string]any{"Names": numbered("p", 11)}), 400, "ValidationException",
			`1 validation error detected: Value '[p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`},
		{"ssm: scalar elements judged at the list", ssm.Service,
			jsonCall("LabelParameterVersion", map[string]any{"Name": "n", "Labels": []string{"ok", strings.Repeat("l", 101)}}), 400, "ValidationException",
			`1 validation error detected: Value '[ok, ` + strings.Repeat("l", 101) + `]' at 'labels' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 100, Member must have length greater than or equal to 1]`},
		{"ssm: an exempt member is the service's", ssm.Service,
			jsonCall("PutParameter", map[string]any{"Name": "n", "Value": "", "Type": "Bogus"}), 501, "NotImplemented", ""},
		{"secretsmanager: a sensitive value is not echoed", secretsmanager.Service,
			jsonCall("CreateSecret", map[string]any{"Name": "n", "SecretString": ""}), 400, "ValidationException",
			`1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length greater than or equal to 1`},
		{"secretsmanager: a number", secretsmanager.Service,
			jsonCall("GetRandomPassword", map[string]any{"PasswordLength": 4097}), 400, "ValidationException",
			`1 validation error detected: Value '4097' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096`},
		{"codepipeline: a map value (aws-service-catalog-factory#279)", codepipeline.Service,
			jsonCall("CreatePipeline", map[string]any{"pipeline": map[string]any{"name": "p", "roleArn": "arn:aws:iam::000000000000:role/r",
				"stages": []any{map[string]any{"name": "s", "actions": []any{map[string]any{"name": "a",
					"actionTypeId":  map[string]string{"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
					"configuration": map[string]string{"ALL_REGIONS": strings.Repeat("x", 1001)}}}}}}}), 400, "ValidationException",
			`1 validation error detected: Value '{ALL_REGIONS=` + strings.Repeat("x", 1001) + `}' at 'pipeline.stages.1.member.actions.1.member.configuration' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 1000, Member must have length greater than or equal to 1]`},
		{"ecr: ECR's wording (trek10inc/ecr-cleaner#8)", ecr.Service,
			jsonCall("BatchGetImage", map[string]any{"repositoryName": "r1", "imageIds": imageIDs}), 400, "InvalidParameterException",
			`Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length less than or equal to 100'`},
		{"ecr: ECR's wording of a pattern (jenkins-x#1344)", ecr.Service,
			jsonCall("CreateRepository", map[string]any{"repositoryName": "Organization/repo-name"}), 400, "InvalidParameterException",
			`Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*''`},
		{"ecr: valid", ecr.Service,
			jsonCall("CreateRepository", map[string]any{"repositoryName": "team/web", "imageTagMutability": "IMMUTABLE"}), 501, "NotImplemented", ""},
		{"sqs: a missing member, query-compatible", sqs.Service,
			jsonCall("SendMessage", map[string]any{"MessageBody": "m"}), 400, "MissingParameter",
			`The request must contain the parameter QueueUrl.`},

		// query
		{"iam: every failure, in member order", iam.Service,
			formCall("ListGroupsForUser", "UserName", "bad name", "MaxItems", "0"), 400, "ValidationError",
			`2 validation errors detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+; Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1`},
		{"iam: the bound broken", iam.Service,
			formCall("CreateRole", "RoleName", long, "AssumeRolePolicyDocument", "{}"), 400, "ValidationError",
			`1 validation error detected: Value '` + long + `' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64`},
		{"iam: a list of structures is not echoed", iam.Service,
			formCall("TagUser", fiftyOneTags...), 400, "ValidationError",
			`1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50`},
		{"iam: ten failures at most", iam.Service,
			formCall(badTags[1], badTags[2:]...), 400, "ValidationError",
			`10 validation errors detected: ` + strings.Join(tagKeyProblems, "; ")},
		{"iam: a missing member", iam.Service,
			formCall("GetRole"), 400, "ValidationError",
			`1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null`},
		{"iam: the model's enum order", iam.Service,
			formCall("UpdateAccessKey", "AccessKeyId", "AKIAAAAAAAAAAAAAAAAA", "Status", "On"), 400, "ValidationError",
			`1 validation error detected: Value 'On' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]`},
		{"sts: roleSessionName (youyo/awslogin#20)", sts.Service,
			formCall("AssumeRole", "RoleArn", "arn:aws:iam::000000000000:role/r", "RoleSessionName", long), 400, "ValidationError",
			`1 validation error detected: Value '` + long + `' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64`},

		// ec2
		{"ec2: a missing member, EC2's way", ec2.Service,
			formCall("DeleteVpc"), 400, "MissingParameter", `The request must contain the parameter VpcId`},
		{"ec2: values are EC2's own to check", ec2.Service,
			formCall("DescribeInstances", "MaxResults", "1"), 501, "NotImplemented", ""},

		// rest-json
		{"lambda: a body member (serverless-external-s3-event#51)", lambda.Service,
			restCall("POST", "/2015-03-31/functions/f/policy", "application/json",
				`{"StatementId":"`+strings.Repeat("s", 101)+`","Action":"lambda:InvokeFunction","Principal":"s3.amazonaws.com"}`), 400, "ValidationException",
			`1 validation error detected: Value '` + strings.Repeat("s", 101) + `' at 'statementId' failed to satisfy constraint: Member must have length less than or equal to 100`},
		{"lambda: a URI member", lambda.Service,
			restCall("GET", "/2015-03-31/functions/bad%20name", "", ""), 400, "ValidationException",
			`1 validation error detected: Value 'bad name' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:|(((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?))(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`},

		// rest-xml
		{"route53: InvalidInput (terraform-aws-acm#63)", route53.Service,
			restCall("GET", "/2013-04-01/hostedzone/"+strings.Repeat("Z", 33), "", ""), 400, "InvalidInput",
			`1 validation error detected: Value '` + strings.Repeat("Z", 33) + `' at 'id' failed to satisfy constraint: Member must have length less than or equal to 32`},
		{"cloudfront: a list element's member (aws-sdk-ruby#413)", cloudfront.Service,
			restCall("POST", "/2020-05-31/distribution", "application/xml", `<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">`+
				`<CallerReference>r</CallerReference><Origins><Quantity>1</Quantity><Items><Origin><Id>o</Id></Origin></Items></Origins>`+
				`<DefaultCacheBehavior><TargetOriginId>o</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></DefaultCacheBehavior>`+
				`<Comment></Comment><Enabled>true</Enabled></DistributionConfig>`), 400, "InvalidArgument",
			`1 validation error detected: Value null at 'distributionConfig.origins.items.1.member.domainName' failed to satisfy constraint: Member must not be null`},
		{"s3: values are S3's own to check", s3.Service,
			restCall("PUT", "/bucket/key", "", "data", "x-amz-storage-class", "BOGUS"), 501, "NotImplemented", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := awsproto.NewHandler(awsproto.NewBinding(tt.svc, nil, false), nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req(tt.svc))
			code, message := errorOf(t, h.Protocol(tt.req(tt.svc)), rec)
			if rec.Code != tt.status || code != tt.code {
				t.Fatalf("got %d %s %q, want %d %s", rec.Code, code, message, tt.status, tt.code)
			}
			if tt.message != "" {
				if diff := cmp.Diff(tt.message, message); diff != "" {
					t.Errorf("message (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// errorOf reads the code and message of an error response in any
// protocol's envelope.
func errorOf(t *testing.T, proto string, rec *httptest.ResponseRecorder) (code, message string) {
	t.Helper()
	code, message, err := wiretest.ReadError(proto, rec.Header(), rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return code, message
}

// TestEveryServiceHasAValidationPolicy keeps the per-service table in
// validate.go complete: how a service answers a request its model refuses
// is decided from AWS's behaviour, never left to a default.
func TestEveryServiceHasAValidationPolicy(t *testing.T) {
	for _, b := range api.Unimplemented() {
		if svc := b.Service(); !awsproto.HasValidationPolicy(svc.ID) {
			t.Errorf("service %s has no row in validationPolicies", svc.ID)
		}
	}
}

// TestUncheckedPatterns lists the model patterns the codec cannot check
// because RE2 cannot express them (lookaround, backreferences); a pattern
// that joins or leaves this list should be a conscious change.
func TestUncheckedPatterns(t *testing.T) {
	got := map[string][]string{}
	for _, b := range api.Unimplemented() {
		svc := b.Service()
		for _, op := range svc.Operations {
			if op.NewInput == nil {
				continue
			}
			for _, p := range awsproto.UncheckedPatterns(op.NewInput()) {
				if !slices.Contains(got[svc.ID], p) {
					got[svc.ID] = append(got[svc.ID], p)
				}
			}
		}
	}
	want := map[string][]string{
		"acm":                    {`(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])`},
		"applicationautoscaling": {`(?!((^[ ]+.*)|(.*([\u0000-\u001f]|[\u007f-\u009f]|[:/|])+.*)|(.*[ ]+$))).+`},
		"ec2":                    {`^(?=.{20,2048}$)arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[a-zA-Z0-9/_+=.@-]+`},
		"efs": {
			`^(?![aA]{1}[wW]{1}[sS]{1}:)([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`,
			"^(\\/|(\\/(?!\\.)+[^$#<>;`|&?{}^*/\\n]+){1,4})$",
		},
		"events": {`^(?!\s*$).+`},
		"iam":    {`^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`}, // iam/rules.go checks it by hand
		"lambda": {
			`(?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
			`(^(?!(system\x2e)))(^[_a-zA-Z0-9])([^$]*)`,
			`((?!^\d+$)^[0-9a-zA-Z-_]+$)`,
			`(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]{1,64})(:((?!\d+$)[0-9a-zA-Z-_]+))?`,
			`[0-9A-Za-z\.\-_]*(?<!\.)`,
		},
		"rds": {`[A-Za-z](?!.*--)[0-9A-Za-z-]*[^-]|^default(?!.*--)(?!.*\.\.)[0-9A-Za-z-.]*[^-]`},
		"ssm": {`^(?!\s*$).+`},
	}
	for _, patterns := range want {
		slices.Sort(patterns)
	}
	for _, patterns := range got {
		slices.Sort(patterns)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unchecked patterns (-want +got):\n%s", diff)
	}
}

func TestPageTokens(t *testing.T) {
	invalid := &awsproto.Error{Code: "InvalidNextToken"}
	tests := []struct {
		name    string
		token   *string
		want    string
		wantErr error
	}{
		{"no token", nil, "", nil},
		{"empty token", new(""), "", nil},
		{"a key", awsproto.PageToken("app/db:0000000000000000002"), "app/db:0000000000000000002", nil},
		{"not base64", new("not a token!"), "", invalid},
		{"base64 it did not issue", new(base64.RawURLEncoding.EncodeToString([]byte("app/db"))), "", invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := awsproto.PageAfter(tt.token, invalid)
			if got != tt.want || err != tt.wantErr {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
