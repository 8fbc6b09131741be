<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>QObject</name>
    <message>
        <source>line %1, column %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the usage event &quot;%1&quot; no longer exists</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cannot write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%L1 rows written</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cannot read %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%L1 rows read</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>edit row %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>delete %n row(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
</context>
<context>
    <name>meterdesk::AboutDialog</name>
    <message>
        <source>About Meterdesk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h2&gt;Meterdesk %1&lt;/h2&gt;&lt;p&gt;Usage events, their ingestion endpoint and their tables, on your machine.&lt;/p&gt;&lt;p&gt;Built with Qt %2, running on Qt %3.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Licences&lt;/b&gt;&lt;br&gt;Meterdesk: © 2026 The Meterdesk developers. The project has not chosen a licence yet; until it does, no rights beyond installing and running it are granted.&lt;br&gt;Qt: GNU Lesser General Public License v3.0 (LGPL-3.0), &lt;a href=&quot;https://www.qt.io/licensing/&quot;&gt;qt.io/licensing&lt;/a&gt;.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::ApiKeyCreatedDialog</name>
    <message>
        <source>API key created</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The API key “%1” was created. Send it in the &lt;code&gt;authorization: Bearer&lt;/code&gt; (or &lt;code&gt;x-api-key&lt;/code&gt;) header of every request to the endpoint.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New API key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy it now: it will not be shown again. Meterdesk stores only its SHA-256 digest, so a lost key cannot be recovered; revoke it and create a new one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copied</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::AppHost</name>
    <message>
        <source>Open workspace</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::ConsoleClient</name>
    <message>
        <source>Not a valid URL: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only http and https URLs can be sent: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No answer within %1 s</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::ConsolePage</name>
    <message>
        <source>{{baseUrl}}/usage/&lt;slug&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send the request (Ctrl+Enter); while it runs, cancel it (Esc)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Headers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Auth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Body</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Runner</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New event for…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No usage events yet (Metering › Usage Events)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import from cURL…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy as cURL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy as code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Python (requests)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JavaScript (fetch)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C++ (Qt Network)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h2&gt;REST console&lt;/h2&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bearer token (authorization: Bearer …)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API key header (x-api-key: …)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Added to the headers when sent, unless the Headers tab already has it. Meterdesk accepts both forms, as Zenskar does.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pretty-print</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>✓ Valid JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not valid JSON at %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>REST console</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not create a key: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No value for %1: fill it in under Environment%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (paste a key or click “Create a key for the console”)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter a URL, or pick “New event for…”</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::ConsoleSidebar</name>
    <message>
        <source>History</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Collections</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search by URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear history</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>F2 renames; activating a request opens it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save request</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A Postman collection (v2.1) or environment file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The selected collection as a Postman v2.1 file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Collection %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import a Postman collection or environment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Postman files (*.json);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot import %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select a collection to export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export as Postman collection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Postman collection (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot export: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>—</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>My requests</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Imported “%1”: %n request(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Environment “%1” imported: %n variable(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>no such collection</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::CurlImportDialog</name>
    <message>
        <source>Import from cURL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paste a curl command (several lines joined with &lt;code&gt;\&lt;/code&gt; are fine). Headers, body, method and URL become an editable request.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot import: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::DesktopApp</name>
    <message>
        <source>Meterdesk — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Metering › Usage Events</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>REST console</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped (Settings › Endpoint starts it again)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;User guide</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Meterdesk user guide</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;API reference</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Meterdesk HTTP API</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Getting started</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About Meterdesk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped (Settings › Endpoint starts it)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Open workspace…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::EnvironmentBar</name>
    <message>
        <source>This endpoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add environment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Another set of variables, e.g. a remote endpoint&apos;s URL, organisation and key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the endpoint is not running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>paste a key, or create one</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The current environment as a Postman environment file (its key included)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Create a key for the console</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Environment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{{baseUrl}}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{{organisation}}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{{apiKey}}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Environment %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export environment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Postman environment (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::EventPage</name>
    <message>
        <source>‹ Usage Events</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy curl</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy endpoint URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open in console</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Replace &lt;code&gt;$MDK_API_KEY&lt;/code&gt; with a key from Settings › API keys.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h2&gt;%1&lt;/h2&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;POST&lt;/b&gt; %1/usage/%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (required)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Headers: &lt;code&gt;organisation: %1&lt;/code&gt;, &lt;code&gt;authorization: Bearer &amp;lt;key&amp;gt;&lt;/code&gt; (or &lt;code&gt;x-api-key&lt;/code&gt;), &lt;code&gt;Content-Type: application/json&lt;/code&gt;.&lt;br&gt;Data fields: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none (any data is kept as sent)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::ExportDialog</name>
    <message>
        <source>Export %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>customer_id = %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>from %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>before %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All rows, oldest first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rows with %1, oldest first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>, </source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%Ln row(s).</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>The column filters are not applied by export: every row matching the customer and time range above is written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV (customer_id, timestamp, one column per field)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NDJSON (one event per line, all stored data)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Format</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export to</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV (*.csv);;NDJSON (*.ndjson *.jsonl)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the export stopped without a result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Done</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not exported: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Cancelled after %Ln row(s); no file was written.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Exported %Ln row(s) to %1.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
</context>
<context>
    <name>meterdesk::FirstRunGuide</name>
    <message>
        <source>Getting started</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;From nothing to a stored event in four steps&lt;/h3&gt;&lt;p&gt;Each button does the step for you with the example from Zenskar&apos;s docs; skip any step you want to do your own way.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;1. Define a usage event&lt;/b&gt;&lt;br&gt;The example &lt;code&gt;test_1&lt;/code&gt; with one field, &lt;code&gt;cpu_usage_hours_per_day&lt;/code&gt;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;2. Create an API key&lt;/b&gt;&lt;br&gt;Your application sends it with every event; the REST console will use it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;3. Send an event&lt;/b&gt;&lt;br&gt;The REST console sends the example event to &lt;code&gt;POST /usage/test_1&lt;/code&gt;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;4. See the row&lt;/b&gt;&lt;br&gt;The usage event&apos;s Rows tab shows what was stored.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Create the example</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Create a key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send from the console</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the row</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Skip</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Skipped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Don&apos;t show again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Help › Getting started opens this guide at any time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Working…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Done</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no usage event %1; do step 1 first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 %2: the event is stored.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No answer: is the endpoint running (Settings › Endpoint)?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 %2: the console shows why.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is defined; its endpoint is POST /usage/%1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The example was not created.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Key “%1” created (Settings › API keys); the REST console uses it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no usage event %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The Rows tab of %1 shows the stored events, newest first.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::HeadersEditor</name>
    <message>
        <source>Header</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Untick a header to leave it out without deleting it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add header</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::HelpDialog</name>
    <message>
        <source>The document %1 is not available.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::ImportDialog</name>
    <message>
        <source>Import into %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A .csv, .ndjson or .jsonl file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File column</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel import</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save rejected rows…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import CSV / NDJSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Events (*.csv *.ndjson *.jsonl);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a file ending in .csv, .ndjson or .jsonl: the format comes from the name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>— choose a field —</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(skip this column)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>problem</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ok</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%1 · the first %n row(s) of the file; %2 would be refused (duplicates are found while importing).</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>CSV</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NDJSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the import stopped without a result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Done</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save rejected rows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no finished import to take rejected rows from</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cannot write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::MainWindow</name>
    <message>
        <source>Meterdesk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>● Running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>○ Stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 events/s</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::OpenWorkspaceDialog</name>
    <message>
        <source>Open workspace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A SQLite file (created when it does not exist), or a PostgreSQL database as &lt;code&gt;postgresql://user[:password]@host[:port]/dbname&lt;/code&gt;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>/path/to/workspace.db or postgresql://…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Workspace file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Meterdesk workspaces (*.db *.sqlite);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::RejectedView</name>
    <message>
        <source>Problem</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Request body</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Headers (credentials removed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No rejected requests. Requests this endpoint refuses (bad JSON, schema errors, wrong keys, conflicts) are kept here with the answer they got.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fix and re-send…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open the request body in the REST console, fix it, send it again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear all…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not deleted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear rejected requests</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete all %1 rejected requests of “%2”?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not cleared</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::ResponseView</name>
    <message>
        <source>No request sent yet. Ctrl+Enter sends.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pretty-print</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Body</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Header</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Headers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pointer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Problem</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Problems</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sending %1 … (Esc or Cancel stops it)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No response: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 ms · %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Problems (%1)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::RowsView</name>
    <message>
        <source>customer_id (exact)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>from (e.g. 2023-05-01)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>to (exclusive)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Local time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Undo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Redo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy (TSV)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy as JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete rows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Row history…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 rows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>≥ %1 rows (counting…)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not saved: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>↑ %n new row(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Filter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: &gt;5, &gt;=5, &lt;5, &lt;=5, =x, &lt;&gt;x, 5~10, or text to find</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>from</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>to</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not deleted: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>History of row %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1  %2 by %3
  before: %4
  after:  %5

</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>—</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Row %1 has never been changed since it was stored.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::RunWorker</name>
    <message>
        <source>The runner sends to http:// URLs only: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot connect to %1:%2: %3</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::RunnerPanel</name>
    <message>
        <source> /s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unlimited</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Events</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Concurrency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rate limit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Random customers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Duplicates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invalid events</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uses this request&apos;s URL and headers; its body&apos;s &lt;code&gt;data&lt;/code&gt; is the template. Each event gets its own timestamp and a random customer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Duplicates and invalid events add up to more than 100 %.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2 answered in %3 s · %4 events/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source> · %n lost to network errors</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Stopped: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · done</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::SchemaEditor</name>
    <message>
        <source>Field (dots for nesting)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Required</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Description</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Add field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move up</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move down</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fields</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JSON Schema</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Infer fields from this sample</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paste a sample &lt;code&gt;data&lt;/code&gt; object, or a whole event:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Infer from sample JSON…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not JSON: %1 (at character %2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A JSON Schema is an object.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This schema cannot be used.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The sample is not JSON: %1 (at character %2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The sample must be a JSON object, like {&quot;cpu_usage_hours_per_day&quot;: &quot;5&quot;}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The sample has no fields to infer.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::SettingsPage</name>
    <message>
        <source>&lt;h2&gt;Settings&lt;/h2&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Listen address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write HOST:PORT, for example 127.0.0.1:8080 or [::1]:8080 (a port is 0 to 65535; 0 picks a free one).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sto&amp;p</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Another program may be using this address, or the port needs privileges. Meterdesk can listen on a free port instead.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use a &amp;free port</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Listen address:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Organisation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Every request to the endpoint carries this value in its &lt;code&gt;organisation&lt;/code&gt; header; a request for another organisation is refused (403).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Organisation:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API &amp;keys</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clients send a key in the &lt;code&gt;authorization: Bearer&lt;/code&gt; or &lt;code&gt;x-api-key&lt;/code&gt; header. A key is shown once, when it is created.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API keys</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Revoke</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>e.g. billing pipeline</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Key name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C&amp;reate key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;voke</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Key &amp;name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Running at %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copied</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not create the API key: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Revoke API key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Revoke the API key “%1” (%2…)?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requests that send it are refused (401) from now on. This cannot be undone.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not revoke the API key: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::ThroughputChart</name>
    <message>
        <source>Throughput and latency appear here, one point a second</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>bars: events/s · green: p50 · orange: p99</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::UsageEventForm</name>
    <message>
        <source>Edit usage event</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add usage event</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>e.g. CPU usage per day</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Usage event &amp;name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reset to derived</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Derive the slug from the name again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API &amp;slug endpoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;code&gt;customer_id&lt;/code&gt;, &lt;code&gt;timestamp&lt;/code&gt; (read-only, mandatory; together they identify an event)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Root fields</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your data schema</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reject (409) — stored billing data never changes silently</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overwrite — replace the row, keep the old data in the audit log</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Same customer_id and timestamp, other data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Order by</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>timestamp</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SAVE CHANGES</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ADD USAGE EVENT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The slug “%1” is already used by another usage event.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>POST %1/usage/%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Give the usage event a name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fix the API slug: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fix the data schema: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Counting stored values…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>• %1 removed: %2 stored rows keep their value in the table (nothing is deleted).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>• %1 retyped: %2 stored rows hold a value, so the type cannot change (add a new field instead).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>• %1 retyped: no stored row holds a value; safe.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Change the schema?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What happens to stored rows:
%1

Apply the change?</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>meterdesk::UsageEventsPage</name>
    <message>
        <source>&lt;h2&gt;Usage Events&lt;/h2&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>+ ADD USAGE EVENT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Define a usage event (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;No usage events yet&lt;/h3&gt;&lt;p&gt;A &lt;b&gt;usage event&lt;/b&gt; is one kind of metered usage — API calls, CPU hours, messages sent. It has a name, an API slug and a data schema. Meterdesk hosts &lt;code&gt;POST /usage/&amp;lt;slug&amp;gt;&lt;/code&gt; for it on this machine and stores every event your application sends in its own table, identified by &lt;code&gt;customer_id&lt;/code&gt; and &lt;code&gt;timestamp&lt;/code&gt;.&lt;/p&gt;&lt;p&gt;Start with your own, or with the example from Zenskar&apos;s docs: &lt;code&gt;test_1&lt;/code&gt; with &lt;code&gt;cpu_usage_hours_per_day&lt;/code&gt;.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Try the example</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Filter by name or slug</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy endpoint URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edit…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU hours a customer used in a day</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Example not created</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>an unknown number of</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete usage event</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete “%1” and its table with %2 stored rows? Its endpoint stops accepting events. This cannot be undone.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not deleted</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
