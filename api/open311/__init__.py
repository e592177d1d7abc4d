"""The Open311 GeoReport v2 facade of LAPOR Flow, under `/open311/v2` (discovery at
`/open311/discovery.xml|json`).

Existing Open311 clients (FixMyStreet-style apps, city dashboards) read and file reports through
it unchanged: `services`, `services/{code}`, `requests` (GET; POST with an `api_key`),
`requests/{id}` and `tokens/{token}`, each in XML or JSON as the extension of the resource says
(`services.xml`, `requests/ABCD234567.json`), with the field lists and `<errors>` answers of the
GeoReport v2 specification.

How LAPOR maps onto it:

- a *service* is a classification and a category (`pengaduan-infrastruktur`, see `catalog`);
- `jurisdiction_id` is an instansi or region code (`34.04`, `KEMENKES`; see `jurisdictions`);
- a *service request* is a report; `service_request_id` is its public tracking id; `status` is
  `closed` once the report is final (closed, archived, rejected), else `open`; `status_notes`
  says where it stands; `expected_datetime` is the due moment of its open task (the SLA);
- reading follows the public views: lists hold only published, non-rahasia reports (as the
  public feed), one report by its id answers as its public status page (any non-rahasia
  report); text is masked and redacted the same way, and no pelapor identity is ever shown.
  A `jurisdiction_id` filters lists; by id it must exist but does not filter (a report
  re-routed to another instansi stays findable by the app that filed it);
- a POST answers the tracking id at once (the services are `realtime`) and also a token that
  `tokens/{token}` resolves to it, for clients that only follow tokens; the answer is 200, as
  most servers send (some older clients take nothing else).

Modules: `blueprint` (routes), `formats` (XML via lxml, JSON), `errors` (Open311 error answers),
`schemas` (parameters), `catalog`, `jurisdictions`, `filing` (POST), `reading` (GET), `tokens`.
"""
