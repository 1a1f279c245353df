package ecs

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseUserData(t *testing.T) {
	gz := func(s string) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.String()
	}
	defaults := func(mutate func(*agentConfig)) agentConfig {
		c := agentConfig{Cluster: "default", ReservedPorts: agentReservedPorts}
		if mutate != nil {
			mutate(&c)
		}
		return c
	}
	cluster := func(name string) agentConfig { return defaults(func(c *agentConfig) { c.Cluster = name }) }
	tests := []struct {
		name, userData string
		want           agentConfig
	}{
		{"empty", "", defaults(nil)},
		{"no agent config", "#!/bin/bash\nyum install -y nginx\n", defaults(nil)},
		{"echo", "#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n", cluster("web")},
		{"echo quoted in a chain", "#!/bin/bash\nmkdir -p /etc/ecs && echo \"ECS_CLUSTER=web\" >> /etc/ecs/ecs.config && systemctl start ecs\n", cluster("web")},
		{"echo -e with newlines", "echo -e 'ECS_CLUSTER=web\\nECS_RESERVED_MEMORY=128' > /etc/ecs/ecs.config\n",
			defaults(func(c *agentConfig) { c.Cluster, c.ReservedMemory = "web", 128 })},
		{"printf", "printf \"ECS_CLUSTER=web\\n\" >> /etc/ecs/ecs.config\n", cluster("web")},
		{"tee", "echo ECS_CLUSTER=web | sudo tee -a /etc/ecs/ecs.config\n", cluster("web")},
		{"variable", "#!/bin/bash\nCLUSTER=web\necho \"ECS_CLUSTER=${CLUSTER}\" >> /etc/ecs/ecs.config\n", cluster("web")},
		{"last one wins", "echo ECS_CLUSTER=a >> /etc/ecs/ecs.config\necho ECS_CLUSTER=b >> /etc/ecs/ecs.config\n", cluster("b")},
		{"heredoc", "#!/bin/bash\nNAME=web\ncat <<EOF >> /etc/ecs/ecs.config\nECS_CLUSTER=$NAME\nECS_RESERVED_MEMORY=256\nECS_ENABLE_TASK_IAM_ROLE=true\nEOF\necho done\n",
			defaults(func(c *agentConfig) { c.Cluster, c.ReservedMemory = "web", 256 })},
		{"quoted heredoc does not expand", "cat > /etc/ecs/ecs.config <<'END'\nECS_CLUSTER=$NAME\nEND\n", cluster("$NAME")},
		{"heredoc through tee", "tee -a /etc/ecs/ecs.config <<-EOF\n\tECS_CLUSTER=web\n\tEOF\n", cluster("web")},
		{"attributes, ports and tags", "#!/bin/bash\ncat <<'EOF' >> /etc/ecs/ecs.config\n" +
			"ECS_CLUSTER=web\n" +
			"ECS_INSTANCE_ATTRIBUTES={\"stack\": \"prod\", \"tier\": \"front\"}\n" +
			"ECS_RESERVED_PORTS=[22, 8080]\n" +
			"ECS_RESERVED_PORTS_UDP=[53]\n" +
			"ECS_CONTAINER_INSTANCE_TAGS={\"team\": \"web\"}\nEOF\n",
			agentConfig{Cluster: "web", InstanceAttributes: map[string]string{"stack": "prod", "tier": "front"},
				ReservedPorts: []string{"22", "8080"}, ReservedPortsUDP: []string{"53"}, Tags: map[string]string{"team": "web"}}},
		{"escaped JSON in double quotes", `echo "ECS_INSTANCE_ATTRIBUTES={\"a\":\"b\"}" >> /etc/ecs/ecs.config`,
			defaults(func(c *agentConfig) { c.InstanceAttributes = map[string]string{"a": "b"} })},
		{"base64", base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n")), cluster("web")},
		{"gzip", gz("#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n"), cluster("web")},
		{"MIME multipart", "Content-Type: multipart/mixed; boundary=\"==B==\"\nMIME-Version: 1.0\n\n" +
			"--==B==\nContent-Type: text/cloud-config; charset=\"us-ascii\"\n\npackages:\n- jq\n\n" +
			"--==B==\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n" +
			"--==B==--\n", cluster("web")},
		{"cloud-config write_files", "#cloud-config\nwrite_files:\n  - path: /etc/ecs/ecs.config\n    append: true\n    content: |\n      ECS_CLUSTER=web\n      ECS_RESERVED_MEMORY=64\n  - path: /etc/motd\n    content: hello\n",
			defaults(func(c *agentConfig) { c.Cluster, c.ReservedMemory = "web", 64 })},
		{"cloud-config runcmd", "#cloud-config\nruncmd:\n  - echo ECS_CLUSTER=web >> /etc/ecs/ecs.config\n  - 'echo ECS_RESERVED_MEMORY=32 >> /etc/ecs/ecs.config'\n",
			defaults(func(c *agentConfig) { c.Cluster, c.ReservedMemory = "web", 32 })},
		{"Bottlerocket", "[settings.ecs]\ncluster = \"web\"\n\n[settings.ecs.instance-attributes]\nstack = \"prod\"\n",
			defaults(func(c *agentConfig) { c.Cluster, c.InstanceAttributes = "web", map[string]string{"stack": "prod"} })},
		{"quoted path does not quote the heredoc", "N=web\ncat <<EOF >> \"/etc/ecs/ecs.config\"\nECS_CLUSTER=$N\nEOF\n", cluster("web")},
		{"MIME part in base64", "Content-Type: multipart/mixed; boundary=\"XX\"\nMIME-Version: 1.0\n\n" +
			"--XX\nContent-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\n" +
			base64.StdEncoding.EncodeToString([]byte("echo ECS_CLUSTER=web >> /etc/ecs/ecs.config\n")) + "\n--XX--\n", cluster("web")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUserData([]byte(tt.userData))
			if err != nil {
				t.Fatalf("parseUserData: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseUserData (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseUserDataRefusesWhatTheAgentRefuses(t *testing.T) {
	for _, line := range []string{
		`ECS_INSTANCE_ATTRIBUTES={not json}`,
		`ECS_RESERVED_PORTS=22,80`,
		`ECS_RESERVED_MEMORY=lots`,
		`ECS_CONTAINER_INSTANCE_TAGS=[1]`,
	} {
		if _, err := parseUserData([]byte("cat <<'EOF' > /etc/ecs/ecs.config\n" + line + "\nEOF\n")); err == nil {
			t.Errorf("%s: got no error, want one", line)
		}
	}
}
