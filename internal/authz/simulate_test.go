package authz

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStatementPositions(t *testing.T) {
	text := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"},\n    {\"Effect\": \"Deny\", \"Action\": \"s3:Get*\", \"Resource\": \"*\"}\n  ]\n}"
	want := [][2]Position{
		{{Line: 4, Column: 5}, {Line: 4, Column: 58}},
		{{Line: 5, Column: 5}, {Line: 5, Column: 60}},
	}
	if diff := cmp.Diff(want, StatementPositions(text)); diff != "" {
		t.Errorf("StatementPositions (-want +got):\n%s", diff)
	}
	single := `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	if diff := cmp.Diff([][2]Position{{{Line: 1, Column: 14}, {Line: 1, Column: 59}}}, StatementPositions(single)); diff != "" {
		t.Errorf("StatementPositions of a single statement (-want +got):\n%s", diff)
	}
}
