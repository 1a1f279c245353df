package vpc

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseListeners(t *testing.T) {
	// A /proc/net/tcp table: 127.16.0.5:80 and 127.16.3.9:8080 listening,
	// 127.0.0.1:4566 listening outside the range, 127.16.0.5:80 also as an
	// established connection, and a malformed line.
	const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0500107F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0903107F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0100007F:11D6 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
   3: 0500107F:0050 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0 100 0 0 10 0
   4: garbage
`
	got, err := parseListeners(strings.NewReader(table), netip.MustParsePrefix("127.16.0.0/16"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.AddrPort]bool{
		netip.MustParseAddrPort("127.16.0.5:80"):   true,
		netip.MustParseAddrPort("127.16.3.9:8080"): true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listeners (-want +got):\n%s", diff)
	}
}

// fakeNetwork is one default VPC with a subnet and a group, and a second
// VPC's subnet.
type fakeNetwork struct{}

func (fakeNetwork) VPCCIDR(_ context.Context, _, _, id string) (string, error) {
	if id == "vpc-1" {
		return "127.16.0.0/16", nil
	}
	return "", ErrNotFound
}

func (fakeNetwork) SubnetVPC(_ context.Context, _, _, id string) (string, error) {
	switch id {
	case "subnet-1":
		return "vpc-1", nil
	case "subnet-2":
		return "vpc-2", nil
	}
	return "", ErrNotFound
}

func (fakeNetwork) SecurityGroupVPC(_ context.Context, _, _, id string) (string, error) {
	if id == "sg-1" {
		return "vpc-1", nil
	}
	return "", ErrNotFound
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		config  Config
		want    string // the range
		wantErr string // the InvalidInputException's message
	}{
		{name: "no VPC", config: Config{}},
		{name: "valid", config: Config{VPCID: "vpc-1", Subnets: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-1"}}, want: "127.16.0.0/16"},
		{name: "no vpcId", config: Config{Subnets: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-1"}},
			wantErr: "Invalid vpc config: vpcId must be specified"},
		{name: "no subnets", config: Config{VPCID: "vpc-1", SecurityGroupIDs: []string{"sg-1"}},
			wantErr: "Invalid vpc config: subnets must be specified"},
		{name: "no groups", config: Config{VPCID: "vpc-1", Subnets: []string{"subnet-1"}},
			wantErr: "Invalid vpc config: securityGroupIds must be specified"},
		{name: "unknown VPC", config: Config{VPCID: "vpc-9", Subnets: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-1"}},
			wantErr: "Invalid vpc config: The vpc ID 'vpc-9' does not exist"},
		{name: "unknown subnet", config: Config{VPCID: "vpc-1", Subnets: []string{"subnet-9"}, SecurityGroupIDs: []string{"sg-1"}},
			wantErr: "Invalid vpc config: The subnet ID 'subnet-9' does not exist"},
		{name: "subnet of another VPC", config: Config{VPCID: "vpc-1", Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroupIDs: []string{"sg-1"}},
			wantErr: "Invalid vpc config: subnet subnet-2 does not belong to vpc vpc-1"},
		{name: "unknown group", config: Config{VPCID: "vpc-1", Subnets: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-9"}},
			wantErr: "Invalid vpc config: The security group ID 'sg-9' does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Validate(context.Background(), fakeNetwork{}, "000000000000", "us-east-1", tt.config)
			var invalid *InvalidInputError
			switch {
			case tt.wantErr != "":
				if !errors.As(err, &invalid) || invalid.Message != tt.wantErr {
					t.Fatalf("got %v, want InvalidInput %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.want == "" && got.IsValid(), tt.want != "" && got.String() != tt.want:
				t.Errorf("got range %v, want %q", got, tt.want)
			}
		})
	}
}
