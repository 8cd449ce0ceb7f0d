package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/claims"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	code := runMain(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckConfig(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		want     []string // substrings of stdout+stderr
		absent   []string
	}{
		{"defaults are valid", nil, nil, 0, []string{"configuration is valid", "embedded default", "override --thresholds"}, nil},
		{"bad broker named with its variable", map[string]string{"TRENDWATCH_KAFKA_BROKERS": "nope"}, nil, 2,
			[]string{"--kafka-brokers (TRENDWATCH_KAFKA_BROKERS)", `"nope" is not host:port`}, nil},
		{"several bad settings all reported", nil, []string{"--batch-size", "0", "--log-level", "loud", "--thresholds", "vi=2"}, 2,
			[]string{"--batch-size", "--log-level", "--thresholds"}, nil},
		{"flag wins over env", map[string]string{"TRENDWATCH_BATCH_SIZE": "0"}, []string{"--batch-size", "10"}, 0, []string{"batch-size             10"}, nil},
		{"invalid env value", map[string]string{"TRENDWATCH_CRAWL_DEPTH": "deep"}, nil, 2, []string{"TRENDWATCH_CRAWL_DEPTH"}, nil},
		{"secret from file, masked", map[string]string{"TRENDWATCH_WEBHOOK_URL": "https://hooks.example/x", "TRENDWATCH_WEBHOOK_SECRET_FILE": secret}, nil, 0,
			[]string{"webhook-secret         ***"}, []string{"s3cret"}},
		{"webhook without secret", map[string]string{"TRENDWATCH_WEBHOOK_URL": "https://hooks.example/x"}, nil, 2, []string{"--webhook-secret"}, nil},
		{"unreadable secret file", map[string]string{"TRENDWATCH_API_TOKEN_FILE": "/nonexistent/token"}, nil, 2, []string{"TRENDWATCH_API_TOKEN_FILE"}, nil},
		{"distributed mode", map[string]string{"TRENDWATCH_KAFKA_BROKERS": "k1:9092,k2:9092", "TRENDWATCH_CLICKHOUSE_ADDR": "ch:9000"}, nil, 0, []string{"mode: distributed"}, nil},
		{"aggregates kept shorter than raw posts", map[string]string{"TRENDWATCH_RETAIN_AGGREGATES_DAYS": "30"}, nil, 2, []string{"--retain-aggregates-days", "shorter than --retain-raw-days 90"}, nil},
		{"bad topic prefix", nil, []string{"--kafka-topic-prefix", "a b"}, 2, []string{"--kafka-topic-prefix"}, nil},
		{"smtp needs sender and recipients", nil, []string{"--smtp-addr", "mail:587"}, 2, []string{"--smtp-from", "--email-to"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.env, append([]string{"check-config"}, tc.args...)...)
			all := out + errs
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tc.wantCode, all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(all, a) {
					t.Errorf("output shows %q:\n%s", a, all)
				}
			}
		})
	}
}

func TestHelpListsCommands(t *testing.T) {
	code, out, _ := runCLI(t, nil, "help")
	if code != 0 {
		t.Fatalf("help exit %d", code)
	}
	for _, c := range []string{"run", "ingest", "analyze", "alert", "serve", "migrate", "check-config", "version", "match", "eval"} {
		if !strings.Contains(out, "\n  "+c+" ") {
			t.Errorf("help does not list %s:\n%s", c, out)
		}
	}
	if code, _, errs := runCLI(t, nil, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command: exit %d, %q", code, errs)
	}
}

func TestStageNeedsServicesOutsideRun(t *testing.T) {
	code, _, errs := runCLI(t, nil, "analyze")
	if code != 2 || !strings.Contains(errs, "--kafka-brokers (TRENDWATCH_KAFKA_BROKERS) is required") {
		t.Fatalf("analyze without brokers: exit %d, %q", code, errs)
	}
}

// TestAlertPolicyThresholdsFollowAnalyzer: the alerter opens cases at the
// thresholds the analyzer emits alert events at (and the API shows), with
// --thresholds overriding both alike.
func TestAlertPolicyThresholdsFollowAnalyzer(t *testing.T) {
	for _, tc := range []struct {
		flag string
		want map[string]float64
	}{
		{"", map[string]float64{"en": claims.DefaultThresholds["en"], "vi": claims.DefaultThresholds["vi"], "und": claims.DefaultThresholds["und"], "xx": claims.DefaultThreshold}},
		{"en=0.8,und=0.9", map[string]float64{"en": 0.8, "vi": claims.DefaultThresholds["vi"], "und": 0.9, "xx": claims.DefaultThreshold}},
	} {
		c := &config{Thresholds: tc.flag, AlertVerdicts: "false"}
		p, err := alertPolicy(c)
		if err != nil {
			t.Fatalf("%q: %v", tc.flag, err)
		}
		th, _ := parseThresholds(tc.flag)
		ix := claims.NewIndex(claims.Options{Thresholds: th})
		for lang, want := range tc.want {
			if got := p.Threshold(lang); got != want {
				t.Errorf("--thresholds %q: policy threshold %s = %v, want %v", tc.flag, lang, got, want)
			}
			if got := ix.Threshold(lang); got != p.Threshold(lang) {
				t.Errorf("--thresholds %q: analyzer threshold %s = %v, alerter %v", tc.flag, lang, got, p.Threshold(lang))
			}
		}
	}
}

// Flags after the positional arguments count, as people type them; "--"
// keeps what follows positional.
func TestParseFlagsInterleaved(t *testing.T) {
	f := func(args []string, wantSpeed float64, wantPos ...string) {
		t.Helper()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		speed := fs.Float64("speed", 60, "")
		if err := parseFlags(fs, args); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if *speed != wantSpeed || !slices.Equal(fs.Args(), wantPos) {
			t.Errorf("%q: speed %v args %q, want %v %q", args, *speed, fs.Args(), wantSpeed, wantPos)
		}
	}
	f([]string{"day.jsonl", "--speed", "0"}, 0, "day.jsonl")
	f([]string{"--speed", "2", "day.jsonl"}, 2, "day.jsonl")
	f([]string{"a", "-speed=3", "b"}, 3, "a", "b")
	f([]string{"-", "--speed", "0"}, 0, "-")
	f([]string{"--speed", "1", "--", "--speed", "x"}, 1, "--speed", "x")
	f(nil, 60)
}
