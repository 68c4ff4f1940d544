import Foundation
import Testing

@testable import ObjectStorage

/// Presigns the same requests with this library and with botocore (the AWS SDK for Python, run as a
/// subprocess) at the same instant, and requires identical signatures, paths and query parameters.
@Suite(
    "Presigned URLs agree with botocore",
    .enabled(if: Botocore.isAvailable, "python3 with botocore is not installed (pip install botocore)"))
struct BotocoreComparisonTests {
    /// One presigning case, described the same way to both sides.
    struct Case: Codable, Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var host: String
        var port: Int?
        var useTLS: Bool
        var region: String
        var bucket: String
        var key: String
        var pathStyle: Bool
        var expires: Int
        var contentType: String?
        var contentLength: Int64?
        var downloadFilename: String?
        var uploadID: String?
        var partNumber: Int?
        var sessionToken: String?
        /// Hex SHA-256 signed as `x-amz-checksum-sha256` (base64, as S3 wants it).
        var sha256: String?

        var testDescription: String { name }
    }

    static let date = Date(timeIntervalSince1970: 1_767_323_045)  // 2026-01-02T03:04:05Z
    static let accessKey = "AKIDEXAMPLE"
    static let secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    static let cases: [Case] = [
        Case(
            name: "GET, unicode key with spaces, path style, port", method: "GET", host: "127.0.0.1", port: 9000,
            useTLS: false, region: "us-east-1", bucket: "media", key: "videos/ümlaut ファイル.mp4", pathStyle: true,
            expires: 900),
        Case(
            name: "PUT with content type, reserved characters", method: "PUT", host: "minio.local", port: 9000,
            useTLS: false, region: "us-east-1", bucket: "vault", key: "uploads/a b+c=d&e?f#g%h.mp4", pathStyle: true,
            expires: 3600, contentType: "video/mp4"),
        Case(
            name: "PUT with type, length and SHA-256 checksum", method: "PUT", host: "127.0.0.1", port: 8333,
            useTLS: false, region: "us-east-1", bucket: "media", key: "originals/photo.jpg", pathStyle: true,
            expires: 900, contentType: "image/jpeg", contentLength: 11,
            sha256: "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"),
        Case(
            name: "PUT with type and length, virtual host, TLS, other region", method: "PUT",
            host: "s3.eu-central-1.amazonaws.com", useTLS: true, region: "eu-central-1", bucket: "my-vault",
            key: "photos/2026/Ünïcödé ✓.jpg", pathStyle: false, expires: 600, contentType: "image/jpeg",
            contentLength: 12345),
        Case(
            name: "GET with download filename (response-content-disposition)", method: "GET", host: "localhost",
            port: 8333, useTLS: false, region: "us-east-1", bucket: "media", key: "a/b/c.pdf", pathStyle: true,
            expires: 60, downloadFilename: "Résumé final (v2).pdf"),
        Case(
            name: "PUT part of a multipart upload", method: "PUT", host: "127.0.0.1", port: 8333, useTLS: false,
            region: "us-east-1", bucket: "media", key: "big/movie file.mkv", pathStyle: true, expires: 86400,
            uploadID: "2~abc/DEF+ghi=jkl_mno", partNumber: 3),
        Case(
            name: "GET with session token", method: "GET", host: "s3.amazonaws.com", useTLS: true,
            region: "us-east-1", bucket: "examplebucket", key: "test.txt", pathStyle: false, expires: 604800,
            sessionToken: "FwoGZXIvYXdzE+/token=="),
        Case(
            name: "GET, every reserved ASCII character", method: "GET", host: "127.0.0.1", port: 8333,
            useTLS: false, region: "us-east-1", bucket: "media", key: "r/!\"$&'()*+,:;=?@[]^`{|}~ #%.txt",
            pathStyle: true, expires: 120),
    ]

    @Test("signature, path and query match botocore's S3SigV4QueryAuth", arguments: cases)
    func matchesBotocore(_ testCase: Case) throws {
        let ours = try Self.presign(testCase)
        let index = try #require(Self.cases.firstIndex { $0.name == testCase.name })
        let theirs = try Self.botocoreURLs.get()[index]

        let ourURL = try #require(URLComponents(string: ours.url.absoluteString))
        let theirURL = try #require(URLComponents(string: theirs))
        #expect(ourURL.host == theirURL.host)
        #expect(ourURL.port == theirURL.port)
        #expect(ourURL.percentEncodedPath == theirURL.percentEncodedPath)
        #expect(Self.sortedQuery(ourURL) == Self.sortedQuery(theirURL))
        #expect(Self.signature(ourURL) != nil)
        #expect(Self.signature(ourURL) == Self.signature(theirURL))
    }

    /// botocore's URLs for all cases, computed by one python3 run shared by every test case.
    static let botocoreURLs = Result { try Botocore.presign(cases, date: date) }

    /// This library's URL for `testCase`, through the public presigner.
    static func presign(_ testCase: Case) throws -> PresignedRequest {
        let configuration = S3Configuration(
            endpoint: S3Endpoint(host: testCase.host, port: testCase.port, useTLS: testCase.useTLS),
            region: testCase.region, bucket: testCase.bucket,
            credentials: AWSCredentials(
                accessKeyID: accessKey, secretAccessKey: secretKey, sessionToken: testCase.sessionToken),
            usePathStyle: testCase.pathStyle)
        let presigner = try S3Presigner(configuration: configuration, clock: { date })
        let key = try ObjectKey(testCase.key)
        let expiry = Duration.seconds(testCase.expires)
        if let uploadID = testCase.uploadID, let partNumber = testCase.partNumber {
            return try presigner.presignedUploadPartURL(
                for: key, uploadID: MultipartUploadID(uploadID), partNumber: partNumber, expiresIn: expiry)
        }
        if testCase.method == "PUT" {
            let request = try presigner.presignedPutURL(
                for: key, contentType: testCase.contentType ?? "application/octet-stream",
                contentLength: testCase.contentLength, sha256: try testCase.sha256.map { try #require(Hex.decode($0)) },
                expiresIn: expiry)
            // What the client is told to send is what was signed.
            #expect(
                request.headers["x-amz-checksum-sha256"]
                    == testCase.sha256.flatMap { Hex.decode($0) }.map { Data($0).base64EncodedString() })
            return request
        }
        return try presigner.presignedGetURL(for: key, expiresIn: expiry, downloadFilename: testCase.downloadFilename)
    }

    /// Query items still encoded, minus the signature, in a stable order.
    static func sortedQuery(_ url: URLComponents) -> [String] {
        (url.percentEncodedQuery ?? "").split(separator: "&").map(String.init)
            .filter { !$0.hasPrefix("X-Amz-Signature=") }.sorted()
    }

    static func signature(_ url: URLComponents) -> String? {
        (url.percentEncodedQuery ?? "").split(separator: "&")
            .first { $0.hasPrefix("X-Amz-Signature=") }
            .map { String($0.dropFirst("X-Amz-Signature=".count)) }
    }
}

/// Runs botocore in a `python3` subprocess.
enum Botocore {
    static let isAvailable: Bool = (try? run(script: "import botocore.auth, botocore.awsrequest", input: Data())) != nil

    private struct Payload: Encodable {
        var epoch: Int
        var cases: [BotocoreComparisonTests.Case]
        /// The exact `response-content-disposition` value per case, so both sides sign the same parameter.
        var dispositions: [String?]
        var accessKey = BotocoreComparisonTests.accessKey
        var secretKey = BotocoreComparisonTests.secretKey
    }

    /// The presigned URL botocore makes for each case at `date`.
    static func presign(_ cases: [BotocoreComparisonTests.Case], date: Date) throws -> [String] {
        let payload = Payload(
            epoch: Int(date.timeIntervalSince1970), cases: cases,
            dispositions: cases.map { $0.downloadFilename.map(ContentDisposition.attachment(filename:)) })
        let output = try run(script: script, input: JSONEncoder().encode(payload))
        return try JSONDecoder().decode([String].self, from: output)
    }

    /// Builds each URL the way boto3 would (key encoded with `/` and `~` kept, operation parameters in the
    /// query), freezes botocore's clock and signs with `S3SigV4QueryAuth`.
    static let script = #"""
        import base64, datetime, json, sys
        import botocore.auth as auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        from botocore.utils import percent_encode

        request = json.load(sys.stdin)
        frozen = datetime.datetime.fromtimestamp(request["epoch"], datetime.timezone.utc).replace(tzinfo=None)
        if hasattr(auth, "get_current_datetime"):
            auth.get_current_datetime = lambda *args, **kwargs: frozen
        else:  # older botocore called datetime.datetime.utcnow() directly
            class FrozenDateTime(datetime.datetime):
                @classmethod
                def utcnow(cls):
                    return frozen
            auth.datetime.datetime = FrozenDateTime

        urls = []
        for case, disposition in zip(request["cases"], request["dispositions"]):
            scheme = "https" if case["useTLS"] else "http"
            netloc = case["host"] if case.get("port") is None else f'{case["host"]}:{case["port"]}'
            path = "/" + percent_encode(case["key"], safe="/~")
            if case["pathStyle"]:
                path = "/" + case["bucket"] + path
            else:
                netloc = case["bucket"] + "." + netloc
            headers, params = {}, {}
            if case.get("contentType") and case["method"] == "PUT" and case.get("partNumber") is None:
                headers["Content-Type"] = case["contentType"]
            if case.get("contentLength") is not None:
                headers["Content-Length"] = str(case["contentLength"])
            if case.get("sha256") is not None:
                headers["x-amz-checksum-sha256"] = base64.b64encode(bytes.fromhex(case["sha256"])).decode()
            if disposition is not None:
                params["response-content-disposition"] = disposition
            if case.get("partNumber") is not None:
                params["partNumber"] = str(case["partNumber"])
                params["uploadId"] = case["uploadID"]
            credentials = Credentials(request["accessKey"], request["secretKey"], case.get("sessionToken"))
            aws_request = AWSRequest(
                method=case["method"], url=f"{scheme}://{netloc}{path}", headers=headers, params=params
            )
            auth.S3SigV4QueryAuth(credentials, "s3", case["region"], expires=case["expires"]).add_auth(aws_request)
            urls.append(aws_request.url)
        json.dump(urls, sys.stdout)
        """#

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `script` with `python3`, feeding `input` on stdin; returns stdout or throws with stderr.
    static func run(script: String, input: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return output
    }
}
