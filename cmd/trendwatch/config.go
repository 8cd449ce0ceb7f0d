package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/bus"
)

// config is every setting of the pipeline's stages. All stage commands
// share it, so one environment configures a whole deployment and
// check-config validates exactly what the stages will use.
type config struct {
	DataDir   string
	LogLevel  string
	LogFormat string

	KafkaBrokers      string
	KafkaPartitions   int
	KafkaReplication  int
	KafkaTopicPrefix  string
	SingleTopicEvents bool

	ClickHouseAddr     string
	ClickHouseDatabase string
	ClickHouseUser     string
	ClickHousePassword string
	ClickHouseBinary   string

	Listen        string // HTTP API (serve, run)
	MetricsListen string // metrics and health for stages without the API
	APIToken      string
	AdminPassword string
	SecureCookies bool
	TimeZone      string
	PublicURL     string
	CompactEvery  time.Duration // 0: this process does not compact
	// Retention (serve): raw posts and aggregates kept this many days; 0
	// keeps them. RetentionEvery 0: this process does not enforce it.
	RetainRawDays        int
	RetainAggregatesDays int
	RetentionEvery       time.Duration
	// Support a topic needs to enter a ranked trends list.
	TrendMinPosts, TrendMinSources int

	Feeds          stringList
	PollInterval   time.Duration
	Crawl          stringList
	CrawlDomains   string
	CrawlDepth     int
	FetchAllow     string
	UserAgent      string
	SourcesReload  time.Duration
	MastodonTokens string

	AnalyzeGroup  string
	AlertGroup    string
	TrendsGroup   string
	BatchSize     int
	BatchLinger   time.Duration
	Workers       int
	Thresholds    string
	AlertVerdicts string
	AlertPolicy   string
	AlertRoutes   string

	WebhookURL      string
	WebhookSecret   string
	SlackWebhookURL string
	TelegramToken   string
	TelegramChat    string
	SMTPAddr        string
	SMTPUser        string
	SMTPPassword    string
	SMTPFrom        string
	EmailTo         string
}

type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

// Set accepts one value per flag use, or a comma-separated list (from the
// environment).
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

func bindConfig(fs *flag.FlagSet) *config {
	c := &config{}
	fs.StringVar(&c.DataDir, "data-dir", "./data", "directory for embedded services' data and local state")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")

	fs.StringVar(&c.KafkaBrokers, "kafka-brokers", "", "Kafka bootstrap brokers host:port,…; empty in run starts an embedded broker")
	fs.IntVar(&c.KafkaPartitions, "kafka-partitions", 6, "partitions for topics trendwatch creates")
	fs.IntVar(&c.KafkaReplication, "kafka-replication", 1, "replication factor for topics trendwatch creates")
	fs.StringVar(&c.KafkaTopicPrefix, "kafka-topic-prefix", "", "prefix of every topic name, for several deployments on one cluster")
	fs.BoolVar(&c.SingleTopicEvents, "single-topic-events", false, "publish one JSON message per topic event, readable by builds before packed topic events (first step of an upgrade)")

	fs.StringVar(&c.ClickHouseAddr, "clickhouse-addr", "", "ClickHouse native-protocol address host:port; empty in run supervises a local server")
	fs.StringVar(&c.ClickHouseDatabase, "clickhouse-database", "trendwatch", "ClickHouse database")
	fs.StringVar(&c.ClickHouseUser, "clickhouse-user", "default", "ClickHouse user")
	fs.StringVar(&c.ClickHousePassword, "clickhouse-password", "", "ClickHouse password (secret)")
	fs.StringVar(&c.ClickHouseBinary, "clickhouse-binary", "", "ClickHouse server binary for the embedded default; empty searches PATH")

	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "HTTP API and dashboard address")
	fs.StringVar(&c.MetricsListen, "metrics-listen", "127.0.0.1:9464", "metrics and health address of ingest, analyze and alert stages; empty disables")
	fs.StringVar(&c.APIToken, "api-token", "", "bearer token required for API writes (secret); empty allows writes from loopback only")
	fs.StringVar(&c.AdminPassword, "admin-password", "", "creates or updates the dashboard user admin at start (secret)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", false, "mark session cookies Secure (set when the dashboard is served over HTTPS)")
	fs.StringVar(&c.TimeZone, "timezone", "Asia/Ho_Chi_Minh", "time zone the dashboard shows times in")
	fs.DurationVar(&c.CompactEvery, "compact-every", time.Minute, "how often serve writes the exact counts of closed hours that long dashboard windows read; 0 turns it off (keep it on in one serve process)")
	fs.IntVar(&c.RetainRawDays, "retain-raw-days", 90, "days to keep raw posts and their topic and match rows (by publish time); 0 keeps them")
	fs.IntVar(&c.RetainAggregatesDays, "retain-aggregates-days", 400, "days to keep hourly aggregates, compacted hours and trend flags; 0 keeps them (facts, cases and sources are never dropped)")
	fs.DurationVar(&c.RetentionEvery, "retention-every", time.Hour, "how often serve drops expired partitions and reports table sizes; 0 turns it off (keep it on in one serve process)")
	fs.StringVar(&c.PublicURL, "public-url", "", "external URL of the API, used in notification links")
	fs.IntVar(&c.TrendMinPosts, "trend-min-posts", 3, "posts a topic needs in the window to enter a ranked trends list (API: min_posts)")
	fs.IntVar(&c.TrendMinSources, "trend-min-sources", 2, "distinct sources or authors a topic needs to enter a ranked trends list; 0 turns the check off (API: min_sources)")

	fs.Var(&c.Feeds, "feed", "RSS/Atom/JSON feed URL to poll (repeatable, or comma-separated)")
	fs.DurationVar(&c.PollInterval, "poll-interval", 5*time.Minute, "base feed poll interval (adapted per source)")
	fs.Var(&c.Crawl, "crawl", "start URL of a site to crawl (repeatable)")
	fs.StringVar(&c.CrawlDomains, "crawl-domains", "", "comma-separated domains the crawler may visit; empty means the start URLs' hosts")
	fs.IntVar(&c.CrawlDepth, "crawl-depth", 2, "maximum link depth from a crawl start URL")
	fs.StringVar(&c.FetchAllow, "fetch-allow", "", "comma-separated CIDRs or hosts the fetcher may reach although private (intranets, tests)")
	fs.StringVar(&c.UserAgent, "user-agent", "", "User-Agent for collectors; empty uses trendwatch's default")
	fs.StringVar(&c.MastodonTokens, "mastodon-tokens", "", "Mastodon access tokens as host=token,… (secret); public timelines need none")
	fs.DurationVar(&c.SourcesReload, "sources-reload", 5*time.Second, "how often collectors reload the source list")

	fs.StringVar(&c.AnalyzeGroup, "analyze-group", "trendwatch-analyze", "consumer group of analyzer workers")
	fs.StringVar(&c.AlertGroup, "alert-group", "trendwatch-alert", "consumer group of alerters")
	fs.StringVar(&c.TrendsGroup, "trends-group", "trendwatch-trends", "consumer group of the velocity stage (topic events by key)")
	// 5000, not less: every batch is one part per table for ClickHouse to
	// merge, and merging was most of the server's CPU; at the bench's
	// maximum rate 5000 sustained ~9.4-9.9k posts/s where 2000 gave 5-7.8k.
	// Below ~25k posts/s an analyzer's batches close on the linger anyway.
	fs.IntVar(&c.BatchSize, "batch-size", 5000, "maximum posts per analyzer batch (one ClickHouse insert)")
	fs.DurationVar(&c.BatchLinger, "batch-linger", 200*time.Millisecond, "maximum wait to fill an analyzer batch")
	fs.IntVar(&c.Workers, "workers", 0, "enrichment goroutines per analyzer; 0 means one per CPU")
	fs.StringVar(&c.Thresholds, "thresholds", "", "alert confidence thresholds per language, e.g. vi=0.6,fr=0.65,en=0.6,und=0.7; empty keeps the calibrated defaults")
	fs.StringVar(&c.AlertVerdicts, "alert-verdicts", "false,misleading", "fact verdicts that raise alerts")
	fs.StringVar(&c.AlertPolicy, "alert-policy", "", "JSON file with the alert policy (velocity rule, severity, watchlist, cooldown, escalation)")
	fs.StringVar(&c.AlertRoutes, "alert-routes", "", "JSON file with routing rules (severity, language, tag → channels, escalation); default: every channel")

	fs.StringVar(&c.WebhookURL, "webhook-url", "", "generic webhook receiving signed alert notifications")
	fs.StringVar(&c.WebhookSecret, "webhook-secret", "", "HMAC-SHA256 key for webhook signatures (secret)")
	fs.StringVar(&c.SlackWebhookURL, "slack-webhook-url", "", "Slack incoming-webhook URL (secret)")
	fs.StringVar(&c.TelegramToken, "telegram-token", "", "Telegram bot token (secret)")
	fs.StringVar(&c.TelegramChat, "telegram-chat", "", "Telegram chat id for alerts")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", "", "SMTP server host:port for email alerts")
	fs.StringVar(&c.SMTPUser, "smtp-user", "", "SMTP user")
	fs.StringVar(&c.SMTPPassword, "smtp-password", "", "SMTP password (secret)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", "", "sender address of alert emails")
	fs.StringVar(&c.EmailTo, "email-to", "", "comma-separated recipients of alert emails")
	return c
}

func init() {
	markSecret("admin-password", "mastodon-tokens", "clickhouse-password", "api-token", "webhook-secret", "slack-webhook-url", "telegram-token", "smtp-password")
}

// validate reports every bad setting, each naming its flag and variable.
func (c *config) validate() error {
	var errs []error
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s (%s): %s", flagName, envName(flagName), fmt.Sprintf(format, args...)))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "%q is not text or json", c.LogFormat)
	}
	if c.DataDir == "" {
		bad("data-dir", "must not be empty")
	}
	if c.KafkaBrokers != "" {
		if _, err := bus.ParseBrokers(c.KafkaBrokers); err != nil {
			bad("kafka-brokers", "%v", err)
		}
	}
	if c.KafkaPartitions < 1 || c.KafkaPartitions > 1000 {
		bad("kafka-partitions", "%d is not between 1 and 1000", c.KafkaPartitions)
	}
	if c.KafkaReplication < 1 || c.KafkaReplication > 7 {
		bad("kafka-replication", "%d is not between 1 and 7", c.KafkaReplication)
	}
	for _, r := range c.KafkaTopicPrefix {
		if !(r == '.' || r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			bad("kafka-topic-prefix", "%q may only hold letters, digits, '.', '_' and '-'", c.KafkaTopicPrefix)
			break
		}
	}
	if c.ClickHouseAddr != "" {
		for _, a := range strings.Split(c.ClickHouseAddr, ",") {
			if err := checkHostPort(a); err != nil {
				bad("clickhouse-addr", "%v", err)
			}
		}
	}
	if c.ClickHouseDatabase == "" || strings.ContainsAny(c.ClickHouseDatabase, " .`'\"") {
		bad("clickhouse-database", "%q is not a plain database name", c.ClickHouseDatabase)
	}
	if c.Listen != "" {
		if err := checkHostPort(c.Listen); err != nil {
			bad("listen", "%v", err)
		}
	}
	if c.MetricsListen != "" {
		if err := checkHostPort(c.MetricsListen); err != nil {
			bad("metrics-listen", "%v", err)
		}
	}
	for _, f := range c.Feeds {
		if err := checkHTTPURL(f); err != nil {
			bad("feed", "%v", err)
		}
	}
	for _, f := range c.Crawl {
		if err := checkHTTPURL(f); err != nil {
			bad("crawl", "%v", err)
		}
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		bad("timezone", "%q is not a known time zone", c.TimeZone)
	}
	if c.CompactEvery < 0 || c.CompactEvery > 0 && c.CompactEvery < time.Second {
		bad("compact-every", "%s is neither 0 (off) nor at least 1s", c.CompactEvery)
	}
	if c.RetainRawDays < 0 || c.RetainAggregatesDays < 0 {
		bad("retain-raw-days", "retention days cannot be negative (%d raw, %d aggregates)", c.RetainRawDays, c.RetainAggregatesDays)
	}
	if c.RetainRawDays > 0 && c.RetainAggregatesDays > 0 && c.RetainAggregatesDays < c.RetainRawDays {
		bad("retain-aggregates-days", "%d is shorter than --retain-raw-days %d: long dashboard windows read the aggregates once raw rows are gone", c.RetainAggregatesDays, c.RetainRawDays)
	}
	if c.RetentionEvery < 0 || c.RetentionEvery > 0 && c.RetentionEvery < time.Minute {
		bad("retention-every", "%s is neither 0 (off) nor at least 1m", c.RetentionEvery)
	}
	if c.TrendMinPosts < 1 {
		bad("trend-min-posts", "%d is less than 1", c.TrendMinPosts)
	}
	if c.TrendMinSources < 0 {
		bad("trend-min-sources", "%d is negative", c.TrendMinSources)
	}
	if c.PollInterval < time.Second {
		bad("poll-interval", "%s is shorter than 1s", c.PollInterval)
	}
	if c.CrawlDepth < 0 || c.CrawlDepth > 20 {
		bad("crawl-depth", "%d is not between 0 and 20", c.CrawlDepth)
	}
	if c.BatchSize < 1 || c.BatchSize > 100000 {
		bad("batch-size", "%d is not between 1 and 100000", c.BatchSize)
	}
	if c.BatchLinger <= 0 || c.BatchLinger > time.Minute {
		bad("batch-linger", "%s is not between 0 and 1m", c.BatchLinger)
	}
	if c.Workers < 0 {
		bad("workers", "must not be negative")
	}
	if _, err := parseThresholds(c.Thresholds); err != nil {
		bad("thresholds", "%v", err)
	}
	if len(splitList(c.AlertVerdicts)) == 0 {
		bad("alert-verdicts", "must name at least one verdict")
	}
	for _, a := range splitList(c.FetchAllow) {
		if _, _, err := net.ParseCIDR(a); err != nil && net.ParseIP(a) == nil && strings.ContainsAny(a, "/ ") {
			bad("fetch-allow", "%q is neither a CIDR, an IP nor a host name", a)
		}
	}
	if c.WebhookURL != "" {
		if err := checkHTTPURL(c.WebhookURL); err != nil {
			bad("webhook-url", "%v", err)
		}
		if c.WebhookSecret == "" {
			bad("webhook-secret", "required with --webhook-url (receivers must be able to verify signatures)")
		}
	}
	if c.SlackWebhookURL != "" {
		if err := checkHTTPURL(c.SlackWebhookURL); err != nil {
			bad("slack-webhook-url", "%v", err)
		}
	}
	if (c.TelegramToken == "") != (c.TelegramChat == "") {
		bad("telegram-chat", "--telegram-token and --telegram-chat go together")
	}
	if c.SMTPAddr != "" {
		if err := checkHostPort(c.SMTPAddr); err != nil {
			bad("smtp-addr", "%v", err)
		}
		if c.SMTPFrom == "" || !strings.Contains(c.SMTPFrom, "@") {
			bad("smtp-from", "a sender address is required with --smtp-addr")
		}
		if len(splitList(c.EmailTo)) == 0 {
			bad("email-to", "at least one recipient is required with --smtp-addr")
		}
	}
	return errors.Join(errs...)
}

func checkHostPort(a string) error {
	host, port, err := net.SplitHostPort(strings.TrimSpace(a))
	if err != nil {
		return fmt.Errorf("%q is not host:port", a)
	}
	_ = host
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q has an invalid port", a)
	}
	return nil
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseThresholds reads "vi=0.6,fr=0.65" with the alert policy's rules,
// so the analyzer and the alerter agree on what a setting means.
func parseThresholds(s string) (map[string]float64, error) { return policy.ParseThresholds(s) }

func (c *config) busConfig(brokers []string) bus.Config {
	return bus.Config{Brokers: brokers, Partitions: c.KafkaPartitions, ReplicationFactor: c.KafkaReplication, ClientID: "trendwatch", TopicPrefix: c.KafkaTopicPrefix, SingleTopicEvents: c.SingleTopicEvents}
}

func (c *config) logger(stderr io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(stderr, opts))
	}
	return slog.New(slog.NewTextHandler(stderr, opts))
}

func (c *config) path(parts ...string) string {
	return filepath.Join(append([]string{c.DataDir}, parts...)...)
}

// loadConfig parses a stage command's flags and environment and validates
// the result.
func loadConfig(name string, args []string, stderr io.Writer) (*config, error) {
	fs := newFlagSet(name, stderr)
	c := bindConfig(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected arguments %q", fs.Args())
	}
	if err := c.validate(); err != nil {
		return nil, usagef("invalid configuration:\n%w", err)
	}
	return c, nil
}
