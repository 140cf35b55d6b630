package activities

// ScreenApplication exposes the screening rules' verdict to the tests of
// package activities_test, without the status changes the Screen step makes.
var ScreenApplication = (*Activities).screenApplication
