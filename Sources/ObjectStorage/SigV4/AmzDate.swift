import Foundation

/// A signing time in SigV4's two textual forms, computed arithmetically (no `DateFormatter`, whose locale and
/// calendar settings have broken signatures in other clients).
public struct AmzDate: Sendable, Hashable {
    /// `yyyyMMdd'T'HHmmss'Z'`, e.g. `20130524T000000Z` (the `X-Amz-Date` value).
    public let timestamp: String
    /// `yyyyMMdd`, e.g. `20130524` (the credential scope's date).
    public var dateStamp: String { String(timestamp.prefix(8)) }

    /// The UTC form of `date`, truncated to whole seconds.
    public init(_ date: Date) {
        let epochSeconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let parts = CivilTime(epochSeconds: epochSeconds)
        timestamp =
            Self.pad(parts.year, 4) + Self.pad(parts.month, 2) + Self.pad(parts.day, 2) + "T"
            + Self.pad(parts.hour, 2) + Self.pad(parts.minute, 2) + Self.pad(parts.second, 2) + "Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// Calendar fields of a UTC instant (proleptic Gregorian), and the way back.
struct CivilTime: Sendable, Hashable {
    var year: Int64
    var month: Int64
    var day: Int64
    var hour: Int64
    var minute: Int64
    var second: Int64

    init(year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second) = (hour, minute, second)
    }

    /// Howard Hinnant's `civil_from_days`, valid far beyond any date a signature will carry.
    init(epochSeconds: Int64) {
        let days = Self.floorDivide(epochSeconds, 86_400)
        let secondOfDay = epochSeconds - days * 86_400
        hour = secondOfDay / 3600
        minute = secondOfDay % 3600 / 60
        second = secondOfDay % 60

        let shifted = days + 719_468
        let era = Self.floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Howard Hinnant's `days_from_civil`, turned into seconds since 1970.
    var epochSeconds: Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = Self.floorDivide(shiftedYear, 400)
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : (value - divisor + 1) / divisor
    }
}

/// Parses the HTTP date S3 sends in `Last-Modified` (`Wed, 21 Oct 2015 07:28:00 GMT`, RFC 9110 IMF-fixdate)
/// and the ISO 8601 form its XML uses (`2015-10-21T07:28:00.000Z`).
enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]

    /// `Wed, 21 Oct 2015 07:28:00 GMT` for `Last-Modified` headers.
    static func format(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let civil = CivilTime(epochSeconds: seconds)
        // 1970-01-01 was a Thursday; the modulo is kept non-negative for dates before 1970.
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekday), \(two(civil.day)) \(months[Int(civil.month) - 1]) \(civil.year) "
            + "\(two(civil.hour)):\(two(civil.minute)):\(two(civil.second)) GMT"
    }

    static func parse(_ text: String) -> Date? {
        parseIMFFixdate(text) ?? parseISO8601(text)
    }

    static func parseIMFFixdate(_ text: String) -> Date? {
        // "Wed, 21 Oct 2015 07:28:00 GMT"
        let fields = text.split(separator: " ")
        guard fields.count == 6, fields[5] == "GMT",
            let day = Int64(fields[1]), let monthIndex = months.firstIndex(of: String(fields[2])),
            let year = Int64(fields[3])
        else { return nil }
        let clock = fields[4].split(separator: ":")
        guard clock.count == 3, let hour = Int64(clock[0]), let minute = Int64(clock[1]), let second = Int64(clock[2])
        else { return nil }
        let civil = CivilTime(
            year: year, month: Int64(monthIndex + 1), day: day, hour: hour, minute: minute, second: second)
        return Date(timeIntervalSince1970: TimeInterval(civil.epochSeconds))
    }

    static func parseISO8601(_ text: String) -> Date? {
        // "2015-10-21T07:28:00.000Z" (fraction optional)
        guard text.hasSuffix("Z") else { return nil }
        let halves = text.dropLast().split(separator: "T")
        guard halves.count == 2 else { return nil }
        let dateFields = halves[0].split(separator: "-")
        let timeFields = halves[1].split(separator: ".")[0].split(separator: ":")
        guard dateFields.count == 3, timeFields.count == 3,
            let year = Int64(dateFields[0]), let month = Int64(dateFields[1]), let day = Int64(dateFields[2]),
            let hour = Int64(timeFields[0]), let minute = Int64(timeFields[1]), let second = Int64(timeFields[2])
        else { return nil }
        let civil = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        return Date(timeIntervalSince1970: TimeInterval(civil.epochSeconds))
    }
}
