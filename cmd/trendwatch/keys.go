package main

import "github.com/trendwatch/trendwatch/analyze/trends"

// topicKeys derives a post's topic keys and their labels: hashtags,
// canonical URLs, names and key phrases, its story and matched facts.
var topicKeys = trends.KeysLabels
