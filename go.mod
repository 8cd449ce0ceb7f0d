module github.com/trendwatch/trendwatch

go 1.26.0
