import Foundation
import Testing

@testable import ObjectStorage

@Suite("S3 XML documents and errors")
struct S3DocumentTests {
    @Test("an <Error> document becomes a typed S3Error")
    func errorDocument() {
        let body = Array(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>
            <Key>a &amp; b.txt</Key><RequestId>4442587FB7D0A2F9</RequestId></Error>
            """.utf8)
        let error = S3Error.fromResponse(status: 404, body: body, requestID: nil)
        #expect(error.code == .noSuchKey)
        #expect(error.httpStatus == 404)
        #expect(error.message == "The specified key does not exist.")
        #expect(error.resource == "a & b.txt")
        #expect(error.requestID == "4442587FB7D0A2F9")
        #expect(!error.isRetryable)
        #expect(ObjectStorageError.isNotFound(error))
    }

    @Test("codes map both ways; unknown codes keep their text")
    func codes() {
        #expect(S3Error.Code(rawValue: "SignatureDoesNotMatch") == .signatureDoesNotMatch)
        #expect(S3Error.Code.entityTooLarge.rawValue == "EntityTooLarge")
        #expect(S3Error.Code(rawValue: "SomethingNew").rawValue == "SomethingNew")
        #expect(S3Error.Code(rawValue: "SomethingNew") != .internalError)
    }

    @Test("bodiless errors are classified by status; 5xx and SlowDown are retryable")
    func statusOnly() {
        let headNotFound = S3Error.fromResponse(status: 404, body: [UInt8](), requestID: "r")
        #expect(headNotFound.code == .noSuchKey)
        #expect(S3Error.fromResponse(status: 403, body: [UInt8](), requestID: nil).code == .accessDenied)
        #expect(S3Error.fromResponse(status: 503, body: Array("not xml".utf8), requestID: nil).isRetryable)
        let slowDown = S3Error(code: .slowDown, httpStatus: 503, message: "Reduce your request rate.")
        #expect(slowDown.isRetryable)
    }

    @Test("InitiateMultipartUploadResult gives the upload id")
    func initiateResult() throws {
        let body = Array(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>example-bucket</Bucket><Key>example-object</Key>
              <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
            </InitiateMultipartUploadResult>
            """.utf8)
        #expect(
            try S3Documents.uploadID(fromInitiateResult: body).rawValue
                == "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA")
    }

    @Test("ListPartsResult gives parts with unquoted ETags and the pagination marker")
    func listParts() throws {
        let body = Array(
            """
            <ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>example-bucket</Bucket><Key>example-object</Key>
              <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>
              <PartNumberMarker>1</PartNumberMarker><NextPartNumberMarker>3</NextPartNumberMarker>
              <MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>
              <Part><PartNumber>2</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified>
                <ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag><Size>10485760</Size></Part>
              <Part><PartNumber>3</PartNumber><LastModified>2010-11-10T20:48:33.000Z</LastModified>
                <ETag>&quot;aaaa18db4cc2f85cedef654fccc4a4x8&quot;</ETag><Size>10485760</Size></Part>
            </ListPartsResult>
            """.utf8)
        let page = try S3Documents.partsPage(fromListPartsResult: body)
        #expect(page.isTruncated)
        #expect(page.nextPartNumberMarker == 3)
        #expect(
            page.parts == [
                UploadedPart(partNumber: 2, etag: "7778aef83f66abc1fa1e8477f296d394", size: 10_485_760),
                UploadedPart(partNumber: 3, etag: "aaaa18db4cc2f85cedef654fccc4a4x8", size: 10_485_760),
            ])
    }

    @Test("CompleteMultipartUpload: result after keep-alive spaces, and the 200-with-<Error> case")
    func completeResult() throws {
        let success = Array(
            """
                 \n<?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Location>http://b.s3.amazonaws.com/k</Location><Bucket>b</Bucket><Key>k</Key>
              <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
            </CompleteMultipartUploadResult>
            """.utf8)
        #expect(
            try S3Documents.etag(fromCompleteResult: success, requestID: nil) == "3858f62230ac3c915f300c664312c11f-9")

        let failure = Array(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>
            <RequestId>656c76696e6727732072657175657374</RequestId></Error>
            """.utf8)
        #expect {
            try S3Documents.etag(fromCompleteResult: failure, requestID: nil)
        } throws: { error in
            guard let error = error as? S3Error else { return false }
            return error.code == .internalError && error.httpStatus == 200
        }
    }

    @Test("garbage is a malformedResponse, not a crash")
    func garbage() {
        #expect(throws: ObjectStorageError.malformedResponse) {
            try S3Documents.partsPage(fromListPartsResult: Array("<ListPartsResult><Part>".utf8))
        }
        #expect(throws: ObjectStorageError.malformedResponse) {
            try S3Documents.uploadID(fromInitiateResult: [UInt8]())
        }
    }

    @Test("request bodies: CompleteMultipartUpload quotes ETags; CORS lists origins, methods and ETag")
    func requestBodies() throws {
        let complete = S3Documents.completeMultipartUpload(parts: [
            CompletedPart(partNumber: 1, etag: "\"a1\""), CompletedPart(partNumber: 2, etag: "b2"),
        ])
        #expect(
            complete
                == "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<Part><ETag>&quot;a1&quot;</ETag><PartNumber>1</PartNumber></Part>"
                + "<Part><ETag>&quot;b2&quot;</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>")

        let cors = try XMLElementTree.parse(
            Array(S3Documents.corsConfiguration(allowedOrigins: ["https://vault.example", "http://a&b"]).utf8))
        let rule = try #require(cors.child("CORSRule"))
        #expect(rule.children("AllowedOrigin").map(\.text) == ["https://vault.example", "http://a&b"])
        #expect(rule.children("AllowedMethod").map(\.text) == ["PUT", "GET", "HEAD"])
        #expect(rule.value(of: "AllowedHeader") == "*")
        #expect(rule.value(of: "ExposeHeader") == "ETag")

        #expect(S3Documents.createBucketConfiguration(region: "us-east-1") == nil)
        #expect(S3Documents.createBucketConfiguration(region: "eu-west-1")?.contains("eu-west-1") == true)
    }

    @Test("retry backoff has full jitter under an exponential ceiling")
    func backoff() {
        let policy = RetryPolicy(maximumAttempts: 5, initialBackoff: .milliseconds(100), maximumBackoff: .seconds(1))
        var random = SystemRandomNumberGenerator()
        for retry in 1...6 {
            let ceiling = min(Duration.seconds(1), .milliseconds(100) * (1 << (retry - 1)))
            for _ in 0..<50 {
                let delay = policy.backoff(beforeRetry: retry, using: &random)
                #expect(delay >= .zero && delay <= ceiling)
            }
        }
        #expect(RetryPolicy.none.backoff(beforeRetry: 1, using: &random) == .zero)
    }
}
