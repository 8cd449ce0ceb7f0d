package main

import "github.com/trendwatch/trendwatch/analyze/trends"

// topicKeys derives a post's topic keys: hashtags, canonical URLs, entities
// and key phrases, story clusters and matched facts.
var topicKeys = trends.Keys
