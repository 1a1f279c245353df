package codecommit

import "testing"

func TestParseRuleContent(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		template bool
		wantErr  bool
	}{
		{"minimal", `{"Version":"2018-11-08","Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1}]}`, false, false},
		{"pool", `{"Version":"2018-11-08","Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":2,"ApprovalPoolMembers":["arn:aws:sts::123456789012:assumed-role/Review/*","CodeCommitApprovers:123456789012:Mary"]}]}`, false, false},
		{"template with references", `{"Version":"2018-11-08","DestinationReferences":["refs/heads/main"],"Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1}]}`, true, false},
		{"references on a rule", `{"Version":"2018-11-08","DestinationReferences":["refs/heads/main"],"Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1}]}`, false, true},
		{"short reference", `{"Version":"2018-11-08","DestinationReferences":["main"],"Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1}]}`, true, true},
		{"not JSON", `{"Version"`, false, true},
		{"wrong version", `{"Version":"2020-01-01","Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1}]}`, false, true},
		{"no statements", `{"Version":"2018-11-08","Statements":[]}`, false, true},
		{"wrong type", `{"Version":"2018-11-08","Statements":[{"Type":"Reviewers","NumberOfApprovalsNeeded":1}]}`, false, true},
		{"zero approvals", `{"Version":"2018-11-08","Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":0}]}`, false, true},
		{"bad member", `{"Version":"2018-11-08","Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1,"ApprovalPoolMembers":["Mary"]}]}`, false, true},
		{"unknown field", `{"Version":"2018-11-08","Statementz":[]}`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseRuleContent(tt.content, tt.template)
			if (err != nil) != tt.wantErr {
				t.Errorf("got error %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestPoolMemberMatches(t *testing.T) {
	const (
		user     = "arn:aws:iam::123456789012:user/Mary_Major"
		pathUser = "arn:aws:iam::123456789012:user/team/Mary_Major"
		fed      = "arn:aws:sts::123456789012:federated-user/Mary_Major"
		session  = "arn:aws:sts::123456789012:assumed-role/CodeCommitReview/Mary_Major"
		other    = "arn:aws:iam::210987654321:user/Mary_Major"
	)
	tests := []struct {
		member, approver string
		want             bool
	}{
		{"CodeCommitApprovers:123456789012:Mary_Major", user, true},
		{"CodeCommitApprovers:123456789012:Mary_Major", pathUser, true},
		{"CodeCommitApprovers:123456789012:Mary_Major", fed, true},
		{"CodeCommitApprovers:123456789012:Mary_Major", session, false},
		{"CodeCommitApprovers:123456789012:*Mary_Major", session, true},
		{"CodeCommitApprovers:123456789012:Mary_Major", other, false},
		{user, user, true},
		{user, fed, false},
		{"arn:aws:sts::123456789012:assumed-role/CodeCommitReview/*", session, true},
		{"arn:aws:sts::123456789012:assumed-role/Other/*", session, false},
		{"arn:aws:iam::123456789012:role/CodeCommitReview", session, true},
		{"arn:aws:iam::123456789012:user/*", user, true},
		{"arn:aws:iam::123456789012:user/*", other, false},
	}
	for _, tt := range tests {
		if got := poolMemberMatches(tt.member, tt.approver); got != tt.want {
			t.Errorf("poolMemberMatches(%q, %q): got %v, want %v", tt.member, tt.approver, got, tt.want)
		}
	}
}

func TestRuleSatisfied(t *testing.T) {
	rc, err := parseRuleContent(`{"Version":"2018-11-08","Statements":[
		{"Type":"Approvers","NumberOfApprovalsNeeded":1,"ApprovalPoolMembers":["arn:aws:sts::123456789012:assumed-role/Lead/*"]},
		{"Type":"Approvers","NumberOfApprovalsNeeded":2}]}`, false)
	if err != nil {
		t.Fatal(err)
	}
	lead := "arn:aws:sts::123456789012:assumed-role/Lead/ann"
	dev := "arn:aws:iam::123456789012:user/bob"
	for _, tt := range []struct {
		approvers []string
		want      bool
	}{{nil, false}, {[]string{dev}, false}, {[]string{lead}, false}, {[]string{lead, dev}, true}} {
		if got := rc.satisfied(tt.approvers); got != tt.want {
			t.Errorf("satisfied(%v): got %v, want %v", tt.approvers, got, tt.want)
		}
	}
}
