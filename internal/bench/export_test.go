package bench

// GivenServer is givenServer, for the tests of the report's server line.
var GivenServer = givenServer
