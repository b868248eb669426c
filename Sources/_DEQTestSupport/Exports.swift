@_exported import DEQCore
