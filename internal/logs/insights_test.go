package logs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

// runQuery starts a query and waits for it to complete.
func runQuery(t *testing.T, c *cwl.Client, in *cwl.StartQueryInput) *cwl.GetQueryResultsOutput {
	t.Helper()
	out, err := c.StartQuery(context.Background(), in)
	if err != nil {
		t.Fatalf("StartQuery %q: %v", aws.ToString(in.QueryString), err)
	}
	var res *cwl.GetQueryResultsOutput
	awstest.WaitFor(t, "the query to complete", func() bool {
		res = awstest.Call(t, c.GetQueryResults, &cwl.GetQueryResultsInput{QueryId: out.QueryId})
		return res.Status == types.QueryStatusComplete
	})
	return res
}

// rows writes results as field=value lists, without @ptr.
func rows(results [][]types.ResultField) [][]string {
	out := [][]string{}
	for _, r := range results {
		row := []string{}
		for _, f := range r {
			if aws.ToString(f.Field) != "@ptr" {
				row = append(row, aws.ToString(f.Field)+"="+aws.ToString(f.Value))
			}
		}
		out = append(out, row)
	}
	return out
}

func TestInsightsQuery(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	createGroup(t, c, "/app/api")
	createGroup(t, c, "/app/worker")
	createStream(t, c, "/app/api", "i-1")
	createStream(t, c, "/app/worker", "w-1")
	now := time.Now().Truncate(time.Second)
	at := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
	put(t, c, "/app/api", "i-1", ev(at(-50*time.Minute), `{"level":"INFO","status":200,"ms":12}`),
		ev(at(-40*time.Minute), `{"level":"ERROR","status":500,"ms":950}`), ev(at(-30*time.Minute), `{"level":"INFO","status":200,"ms":30}`))
	put(t, c, "/app/worker", "w-1", ev(at(-3*time.Hour), "ERROR too old for the range"), ev(at(-45*time.Minute), "ERROR job=resize failed"))
	start, end := aws.Int64(now.Add(-time.Hour).Unix()), aws.Int64(now.Unix())

	res := runQuery(t, c, &cwl.StartQueryInput{LogGroupNames: []string{"/app/api", "/app/worker"}, StartTime: start, EndTime: end,
		QueryString: aws.String("fields @timestamp, @message, @logStream, @log | filter @message like /ERROR/ | sort @timestamp desc | limit 10")})
	iso := func(d time.Duration) string { return now.Add(d).UTC().Format("2006-01-02 15:04:05.000") }
	want := [][]string{
		{"@timestamp=" + iso(-40*time.Minute), `@message={"level":"ERROR","status":500,"ms":950}`, "@logStream=i-1", "@log=000000000000:/app/api"},
		{"@timestamp=" + iso(-45*time.Minute), "@message=ERROR job=resize failed", "@logStream=w-1", "@log=000000000000:/app/worker"},
	}
	if diff := cmp.Diff(want, rows(res.Results)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	for _, r := range res.Results {
		if last := r[len(r)-1]; aws.ToString(last.Field) != "@ptr" || aws.ToString(last.Value) == "" {
			t.Errorf("a result row ends with %v, want @ptr", last)
		}
	}
	wantStats := &types.QueryStatistics{RecordsMatched: 2, RecordsScanned: 4,
		BytesScanned: float64(len(`{"level":"INFO","status":200,"ms":12}`)*2 + len(`{"level":"ERROR","status":500,"ms":950}`) + len("ERROR job=resize failed"))}
	if diff := cmp.Diff(wantStats, res.Statistics, cmp.AllowUnexported(types.QueryStatistics{})); diff != "" {
		t.Errorf("statistics (-want +got):\n%s", diff)
	}

	res = runQuery(t, c, &cwl.StartQueryInput{LogGroupIdentifiers: []string{"arn:aws:logs:us-east-1:000000000000:log-group:/app/api"},
		StartTime: start, EndTime: end, QueryString: aws.String("stats count(*) as requests, avg(ms) as avg_ms, max(ms) by status | sort status")})
	if diff := cmp.Diff([][]string{{"status=200", "requests=2", "avg_ms=21", "max(ms)=30"}, {"status=500", "requests=1", "avg_ms=950", "max(ms)=950"}}, rows(res.Results)); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	res = runQuery(t, c, &cwl.StartQueryInput{LogGroupName: aws.String("/app/worker"), StartTime: start, EndTime: end,
		QueryString: aws.String(`parse @message "* job=* *" as level, job, outcome | display job, outcome`)})
	if diff := cmp.Diff([][]string{{"job=resize", "outcome=failed"}}, rows(res.Results)); diff != "" {
		t.Errorf("parse (-want +got):\n%s", diff)
	}
	// StartQuery's limit, and pages of GetQueryResults.
	out, err := c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("/app/api"), StartTime: start, EndTime: end,
		QueryString: aws.String("fields ms"), Limit: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	awstest.WaitFor(t, "the limited query", func() bool {
		return awstest.Call(t, c.GetQueryResults, &cwl.GetQueryResultsInput{QueryId: out.QueryId}).Status == types.QueryStatusComplete
	})
	page := awstest.Call(t, c.GetQueryResults, &cwl.GetQueryResultsInput{QueryId: out.QueryId, MaxItems: aws.Int32(1)})
	next := awstest.Call(t, c.GetQueryResults, &cwl.GetQueryResultsInput{QueryId: out.QueryId, MaxItems: aws.Int32(1), NextToken: page.NextToken})
	if got := append(rows(page.Results), rows(next.Results)...); !cmp.Equal(got, [][]string{{"ms=30"}, {"ms=950"}}) || next.NextToken != nil {
		t.Errorf("pages of the 2 newest rows: %v, next token %v", got, next.NextToken)
	}

	queries := awstest.Call(t, c.DescribeQueries, &cwl.DescribeQueriesInput{LogGroupName: aws.String("/app/worker")})
	if len(queries.Queries) != 2 || queries.Queries[0].Status != types.QueryStatusComplete || aws.ToString(queries.Queries[0].QueryString) == "" {
		t.Errorf("DescribeQueries of /app/worker: %+v", queries.Queries)
	}
	_, err = c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: out.QueryId})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "is not running"})
}

func TestInsightsErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	createGroup(t, c, "g")
	startQuery := func(in *cwl.StartQueryInput) func(context.Context) error {
		if in.StartTime == nil {
			in.StartTime, in.EndTime = aws.Int64(0), aws.Int64(100)
		}
		return awstest.Fails(c.StartQuery, in)
	}
	malformed := startQuery(&cwl.StartQueryInput{LogGroupName: aws.String("g"), QueryString: aws.String("fields @message | sort @timestamp dsc")})
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "malformed", Call: malformed,
			Want: awstest.APIError{Code: "MalformedQueryException", Status: 400, Message: "unexpected symbol found dsc at line 1 and position 35"}},
		{Name: "missing group", Call: startQuery(&cwl.StartQueryInput{LogGroupNames: []string{"g", "nope"}, QueryString: aws.String("fields @message")}),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Message: "Log group 'nope' does not exist for account ID '000000000000'"}},
		{Name: "no group", Call: startQuery(&cwl.StartQueryInput{QueryString: aws.String("fields @message")}), Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "two ways to name groups", Call: startQuery(&cwl.StartQueryInput{LogGroupName: aws.String("g"), LogGroupNames: []string{"g"}, QueryString: aws.String("fields @message")}),
			Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "end before start", Call: startQuery(&cwl.StartQueryInput{LogGroupName: aws.String("g"), StartTime: aws.Int64(100), EndTime: aws.Int64(99), QueryString: aws.String("fields @message")}),
			Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "SQL", Call: startQuery(&cwl.StartQueryInput{LogGroupName: aws.String("g"), QueryLanguage: types.QueryLanguageSql, QueryString: aws.String("SELECT 1")}),
			Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "unknown query", Call: awstest.Fails(c.GetQueryResults, &cwl.GetQueryResultsInput{QueryId: aws.String("nope")}),
			Want: awstest.APIError{Code: "ResourceNotFoundException"}},
		{Name: "stop an unknown query", Call: awstest.Fails(c.StopQuery, &cwl.StopQueryInput{QueryId: aws.String("nope")}),
			Want: awstest.APIError{Code: "ResourceNotFoundException"}},
	})

	// The SDK decodes the compile error's location too.
	var compileErr *types.MalformedQueryException
	if err := malformed(ctx); !errors.As(err, &compileErr) || compileErr.QueryCompileError == nil ||
		aws.ToInt32(compileErr.QueryCompileError.Location.StartCharOffset) != 34 {
		t.Errorf("MalformedQueryException: got %#v, want one with the compile error at offset 34", err)
	}
}
