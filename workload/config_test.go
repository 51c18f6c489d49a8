package workload

import (
	"strings"
	"testing"
	"time"
)

func TestValidateNamesTheFlag(t *testing.T) {
	good := Config{System: raftd, Workload: Register, Keys: 3, Concurrency: 5, Timeout: time.Second}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	cases := []struct {
		change func(*Config)
		flag   string
	}{
		{func(c *Config) { c.Workload = "bank" }, "--workload"},
		{func(c *Config) { c.Keys = 0 }, "--keys must be >= 1"},
		{func(c *Config) { c.Concurrency = 0 }, "--concurrency"},
		{func(c *Config) { c.Concurrency = maxConcurrency + 1 }, "--concurrency"},
		{func(c *Config) { c.Rate = -1 }, "--rate"},
		{func(c *Config) { c.Timeout = 0 }, "--timeout"},
	}
	for _, tc := range cases {
		c := good
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("Validate() = %v, want an error naming %q", err, tc.flag)
		}
	}
	bad := Config{}
	err := bad.Validate()
	for _, flag := range []string{"--system", "--workload", "--keys", "--concurrency", "--timeout"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("all-zero config: %v, want every bad flag reported, %s missing", err, flag)
		}
	}
}

func TestKeyNames(t *testing.T) {
	got := Config{Keys: 3}.KeyNames()
	if strings.Join(got, ",") != "k0,k1,k2" {
		t.Fatalf("KeyNames = %v", got)
	}
}
