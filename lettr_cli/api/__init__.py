"""The HTTP API: Lettr's Campaigns and Audience APIs served from the local store, so programs
written for Lettr's SDK run against lettr (issue 16). A face: it parses requests, calls the
services and shapes their answers as Lettr does; it holds no rules."""
