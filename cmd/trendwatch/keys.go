package main

import "github.com/trendwatch/trendwatch/analyze/enrich"

// topicKeys derives a post's topic keys.
var topicKeys = enrich.DefaultKeys
