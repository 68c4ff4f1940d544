import Foundation
import Testing

@testable import ObjectStorage

/// AWS's documented S3 SigV4 examples: key AKIAIOSFODNN7EXAMPLE, bucket examplebucket, 24 May 2013 00:00:00 UTC.
@Suite("SigV4 against AWS's documented examples")
struct SigV4DocumentedExampleTests {
    static let credentials = AWSCredentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
    static let awsEndpoint = S3Endpoint(host: "s3.amazonaws.com", useTLS: true)

    /// The example bucket addressed virtual-host style, as in the documentation.
    static func target(key: String?, query: [HTTPField] = []) throws -> S3RequestTarget {
        S3RequestTarget(
            endpoint: awsEndpoint, bucket: "examplebucket", key: try key.map { try ObjectKey($0) }, query: query,
            pathStyle: false)
    }

    @Test("presigned GET /test.txt (query-string authentication)")
    func presignedGet() throws {
        let target = try Self.target(key: "test.txt")
        let presigned = Self.signer.presign(target.sigV4Request(method: "GET"), expires: 86400, date: Self.date)
        #expect(presigned.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(
            target.urlString(encodedQuery: presigned.queryString)
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test("the same presigned GET through S3Presigner (public API)")
    func presignedGetThroughPresigner() throws {
        let configuration = S3Configuration(
            endpoint: Self.awsEndpoint, bucket: "examplebucket", credentials: Self.credentials, usePathStyle: false)
        let presigner = try S3Presigner(configuration: configuration, clock: { Self.date })
        let request = try presigner.presignedGetURL(
            for: ObjectKey("test.txt"), expiresIn: .seconds(86400), downloadFilename: nil)
        #expect(
            request.url.absoluteString.hasSuffix(
                "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
        #expect(request.method == .get)
        #expect(request.expiresAt == Self.date + 86400)
    }

    @Test("GET object with Range header")
    func getObjectWithRange() throws {
        let target = try Self.target(key: "test.txt")
        let signed = Self.signer.signHeaders(
            target.sigV4Request(method: "GET", headers: [HTTPField("Range", "bytes=0-9")]),
            payload: .empty, date: Self.date)
        #expect(signed.canonicalRequest.hash == "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        let authorization = signed.headers.first { $0.name == "authorization" }?.value
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test("PUT object test$file.text with a signed payload")
    func putObject() throws {
        let target = try Self.target(key: "test$file.text")
        #expect(target.path == "/test%24file.text")
        let payload = PayloadSignature.sha256(of: Array("Welcome to Amazon S3.".utf8))
        #expect(payload.headerValue == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = Self.signer.signHeaders(
            target.sigV4Request(
                method: "PUT",
                headers: [
                    HTTPField("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                    HTTPField("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ]),
            payload: payload, date: Self.date)
        #expect(signed.canonicalRequest.hash == "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d")
        #expect(
            signed.canonicalRequest.signedHeaders == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test("GET bucket lifecycle (query parameter without value)")
    func getLifecycle() throws {
        let target = try Self.target(key: nil, query: [HTTPField("lifecycle", "")])
        let signed = Self.signer.signHeaders(target.sigV4Request(method: "GET"), payload: .empty, date: Self.date)
        #expect(signed.canonicalRequest.canonicalQueryString == "lifecycle=")
        #expect(signed.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test("GET bucket (list objects) with sorted query parameters")
    func listObjects() throws {
        // Given out of order on purpose: the canonical query must sort them.
        let target = try Self.target(key: nil, query: [HTTPField("prefix", "J"), HTTPField("max-keys", "2")])
        let signed = Self.signer.signHeaders(target.sigV4Request(method: "GET"), payload: .empty, date: Self.date)
        #expect(signed.canonicalRequest.canonicalQueryString == "max-keys=2&prefix=J")
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test("the signing key derivation matches AWS's published intermediate")
    func stringToSignOfRangeExample() throws {
        let target = try Self.target(key: "test.txt")
        let signed = Self.signer.signHeaders(
            target.sigV4Request(method: "GET", headers: [HTTPField("range", "bytes=0-9")]),
            payload: .empty, date: Self.date)
        #expect(
            Self.signer.stringToSign(signed.canonicalRequest, at: AmzDate(Self.date))
                == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                + "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
    }
}

@Suite("SigV4 building blocks")
struct SigV4BuildingBlockTests {
    @Test(
        "S3 URI encoding of keys",
        arguments: [
            ("plain.txt", "plain.txt"),
            ("dir/sub dir/file name.mp4", "dir/sub%20dir/file%20name.mp4"),
            ("ümlaut ファイル.mp4", "%C3%BCmlaut%20%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB.mp4"),
            ("a+b=c&d?e#f%g", "a%2Bb%3Dc%26d%3Fe%23f%25g"),
            ("already%20encoded", "already%2520encoded"),
            ("-_.~!'()*$@:;,[]", "-_.~%21%27%28%29%2A%24%40%3A%3B%2C%5B%5D"),
        ])
    func keyPathEncoding(key: String, expected: String) {
        #expect(AWSURIEncoding.encodePath(key) == expected)
    }

    @Test("query values encode '/' too, and spaces never become '+'")
    func queryEncoding() {
        #expect(AWSURIEncoding.encode("a/b c+d", keepingSlashes: false) == "a%2Fb%20c%2Bd")
    }

    @Test("percent-decoding is the inverse and refuses malformed escapes")
    func decoding() {
        let key = "dir/ümlaut ファイル+=&?#%.mp4"
        #expect(AWSURIEncoding.decode(Substring(AWSURIEncoding.encodePath(key))) == key)
        #expect(AWSURIEncoding.decode("a+b") == "a+b")
        #expect(AWSURIEncoding.decode("bad%2") == nil)
        #expect(AWSURIEncoding.decode("bad%zz") == nil)
        #expect(AWSURIEncoding.decode("%FF%FE") == nil)
    }

    @Test("canonical query sorts by encoded name, then value")
    func canonicalQuerySorting() {
        let request = CanonicalRequest(
            method: "GET", canonicalURI: "/",
            query: [
                HTTPField("b", "2"), HTTPField("a", "z"), HTTPField("a", "y"), HTTPField("X-Amz-Date", "1"),
                HTTPField("response-content-disposition", "attachment; filename=\"a b.txt\""),
            ],
            headers: [], payloadHash: "UNSIGNED-PAYLOAD")
        #expect(
            request.canonicalQueryString
                == "X-Amz-Date=1&a=y&a=z&b=2&response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22")
    }

    @Test("canonical headers are lowercased, sorted, trimmed, inner spaces collapsed, repeats joined")
    func canonicalHeaders() {
        let request = CanonicalRequest(
            method: "put", canonicalURI: "",
            query: [],
            headers: [
                HTTPField("X-Amz-Meta-B", "  two   words "), HTTPField("Host", "h"), HTTPField("x-amz-meta-b", "x"),
            ],
            payloadHash: "UNSIGNED-PAYLOAD")
        #expect(request.signedHeaders == "host;x-amz-meta-b")
        #expect(request.text == "PUT\n/\n\nhost:h\nx-amz-meta-b:two words,x\n\nhost;x-amz-meta-b\nUNSIGNED-PAYLOAD")
    }

    @Test(
        "AmzDate formats UTC without a formatter",
        arguments: [
            (0.0, "19700101T000000Z"),
            (1_369_353_600.0, "20130524T000000Z"),
            (951_782_400.0, "20000229T000000Z"),
            (4_102_444_799.9, "20991231T235959Z"),
            (1_767_323_045.0, "20260102T030405Z"),
        ])
    func amzDate(seconds: Double, expected: String) {
        #expect(AmzDate(Date(timeIntervalSince1970: seconds)).timestamp == expected)
    }

    @Test("HTTP dates round-trip (Last-Modified)")
    func httpDates() {
        let date = Date(timeIntervalSince1970: 1_445_412_480)
        #expect(HTTPDate.format(date) == "Wed, 21 Oct 2015 07:28:00 GMT")
        #expect(HTTPDate.parse("Wed, 21 Oct 2015 07:28:00 GMT") == date)
        #expect(HTTPDate.parse("2015-10-21T07:28:00.000Z") == date)
        #expect(HTTPDate.parse("yesterday") == nil)
    }

    @Test("a session token is signed: header for requests, X-Amz-Security-Token for presigning")
    func sessionToken() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "TOKEN/+="),
            region: "us-east-1")
        let request = SigV4Request(method: "GET", host: "h", path: "/b/k")
        let signed = signer.signHeaders(request, payload: .unsigned, date: Date(timeIntervalSince1970: 0))
        #expect(signed.headers.contains(HTTPField("x-amz-security-token", "TOKEN/+=")))
        #expect(signed.canonicalRequest.signedHeaders == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
        let presigned = signer.presign(request, expires: 60, date: Date(timeIntervalSince1970: 0))
        #expect(presigned.queryString.contains("X-Amz-Security-Token=TOKEN%2F%2B%3D"))
    }

    @Test("path-style and virtual-host addressing, with non-default ports in Host")
    func addressing() throws {
        let key = try ObjectKey("a b/c.txt")
        let local = S3Endpoint(host: "127.0.0.1", port: 8333, useTLS: false)
        let pathStyle = S3RequestTarget(endpoint: local, bucket: "media", key: key, pathStyle: true)
        #expect(pathStyle.host == "127.0.0.1:8333")
        #expect(pathStyle.urlString() == "http://127.0.0.1:8333/media/a%20b/c.txt")
        let aws = S3Endpoint(host: "s3.eu-west-1.amazonaws.com", port: 443, useTLS: true)
        let virtualHost = S3RequestTarget(endpoint: aws, bucket: "media", key: key, pathStyle: false)
        #expect(virtualHost.host == "media.s3.eu-west-1.amazonaws.com")
        #expect(virtualHost.urlString() == "https://media.s3.eu-west-1.amazonaws.com/a%20b/c.txt")
        let bucketOnly = S3RequestTarget(
            endpoint: local, bucket: "media", key: nil, query: [HTTPField("uploads", "")],
            pathStyle: true)
        #expect(bucketOnly.urlString() == "http://127.0.0.1:8333/media?uploads=")
    }

    @Test("endpoints parse host:port and refuse nonsense")
    func endpointParsing() throws {
        let endpoint = try S3Endpoint(hostAndPort: "minio:9000", useTLS: false)
        #expect(endpoint == S3Endpoint(host: "minio", port: 9000, useTLS: false))
        #expect(try S3Endpoint(hostAndPort: "s3.amazonaws.com", useTLS: true).port == nil)
        #expect(try S3Endpoint(hostAndPort: "[::1]:9000", useTLS: false).host == "[::1]")
        #expect(throws: ObjectStorageError.invalidArgument) { try S3Endpoint(hostAndPort: "host:99999", useTLS: false) }
        #expect(throws: ObjectStorageError.invalidArgument) { try S3Endpoint(hostAndPort: "http://x", useTLS: false) }
    }

    @Test("presigned PUT binds content type and length; expiry limits are enforced")
    func presignedPutBindsHeaders() throws {
        let configuration = S3Configuration(
            endpoint: S3Endpoint(host: "minio", port: 9000, useTLS: false),
            publicEndpoint: S3Endpoint(host: "localhost", port: 9000, useTLS: false),
            bucket: "vault", credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "SK"))
        let presigner = try S3Presigner(configuration: configuration, clock: { Date(timeIntervalSince1970: 0) })
        let request = try presigner.presignedPutURL(
            for: ObjectKey("v/clip.mp4"), contentType: "video/mp4", contentLength: 42, expiresIn: .seconds(900))
        let url = request.url.absoluteString
        #expect(url.hasPrefix("http://localhost:9000/vault/v/clip.mp4?"))  // the public endpoint, not minio:9000
        #expect(url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"))
        #expect(request.headers == ["Content-Type": "video/mp4"])
        #expect(throws: ObjectStorageError.invalidArgument) {
            try presigner.presignedGetURL(for: ObjectKey("k"), expiresIn: .seconds(604_801), downloadFilename: nil)
        }
        #expect(throws: ObjectStorageError.invalidArgument) {
            try presigner.presignedPutURL(
                for: ObjectKey("k"), contentType: "a\nb", contentLength: nil, expiresIn: .seconds(1))
        }
        #expect(throws: ObjectStorageError.invalidArgument) {
            try presigner.presignedUploadPartURL(
                for: ObjectKey("k"), uploadID: MultipartUploadID("u"), partNumber: 10_001, expiresIn: .seconds(60))
        }
    }

    @Test("Content-Disposition keeps UTF-8 names and a safe ASCII fallback")
    func contentDisposition() {
        #expect(
            ContentDisposition.attachment(filename: "Résumé \"final\"/v2.pdf")
                == "attachment; filename=\"R_sum_ _final__v2.pdf\"; "
                + "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22_v2.pdf"
        )
    }
}
